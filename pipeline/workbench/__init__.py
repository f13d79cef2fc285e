"""The clinic's workbench: a local web page where staff import, edit, build and download handouts.

`app` is the web app (Flask, pages rendered on the server); `store` keeps the handouts' sources as a
git history, so every save is a commit with its author and any version can be read or put back;
`jobs` is the build queue, which builds and checks a handout in the background and reports each
format's progress.
"""
