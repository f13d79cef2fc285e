"""Reading a source: the Markdown reader, pandoc's tree, pictures, imports of Word and web files, and the guards on untrusted input."""
