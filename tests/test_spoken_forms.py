"""Said right: what a handout writes, said as a nurse would say it, in English and Spanish, from the
one table of spoken forms the narration and the check both use (`narration.spoken`). A wrong form is
a safety matter: "1/2 tablet" said "1 or 2 tablet", "911" said "nine hundred eleven"."""

from __future__ import annotations

import pytest

from pipeline.language.narration import spoken
from pipeline.language.words import words_for

pytestmark = pytest.mark.fast

ENGLISH = [
    ("Call 911 now.", "Call 9 1 1 now."),
    ("Call 988 if you feel hopeless.", "Call 9 8 8 if you feel hopeless."),
    ("Call 555-0100.", "Call 5 5 5, 0 1 0 0."),
    ("Call (555) 010-0199.", "Call 5 5 5, 0 1 0, 0 1 9 9."),
    ("Room 9110 is on the left.", "Room 9110 is on the left."),
    ("Take 10 mL twice a day.", "Take 10 milliliters twice a day."),
    ("Take 1 mL.", "Take 1 milliliter."),
    ("Take 5 ml.", "Take 5 milliliters."),
    ("Give 2.5 mg.", "Give 2.5 milligrams."),
    ("Give 1 mg.", "Give 1 milligram."),
    ("Give 300 mcg.", "Give 300 micrograms."),
    ("Give 60 mg/m² on day 1.", "Give 60 milligrams per square meter on day 1."),
    ("Give 5 mcg/kg a day.", "Give 5 micrograms per kilogram a day."),
    ("Drink 2 L of water.", "Drink 2 liters of water."),
    ("Do not lift more than 10 lb.", "Do not lift more than 10 pounds."),
    ("You weigh 70 kg.", "You weigh 70 kilograms."),
    ("The drain is 2 cm long.", "The drain is 2 centimeters long."),
    ("A fever over 100.4 °F is serious.", "A fever over 100.4 degrees Fahrenheit is serious."),
    ("A fever over 38 °C is serious.", "A fever over 38 degrees Celsius is serious."),
    ("A fever over 38°C is serious.", "A fever over 38 degrees Celsius is serious."),
    ("Take 20-30 mg.", "Take 20 to 30 milligrams."),
    ("Wait 3-5 minutes.", "Wait 3 to 5 minutes."),
    ("About 20–30 % of people.", "About 20 to 30 percent of people."),
    ("About 30% of people.", "About 30 percent of people."),
    ("Take 1/2 tablet.", "Take one half tablet."),
    ("Take 1/4 tablet.", "Take one quarter tablet."),
    ("Take 8 mg q8h.", "Take 8 milligrams every 8 hours."),
    ("Take it PRN for nausea.", "Take it as needed for nausea."),
    ("Repeat x2.", "Repeat 2 times."),
    ("Take it at 8:00 a.m.", "Take it at 8 a m."),
    ("Take it at 2:30 p.m. each day.", "Take it at 2 30 p m each day."),
    ("It goes in through an IV.", "It goes in through an I V."),
    ("Your PICC line needs care.", "Your pick line needs care."),
    ("You will have a CT scan and an MRI.", "You will have a C T scan and an M R I."),
    ("Ask Dr. Lee.", "Ask Doctor Lee."),
    ("Use soap, e.g. a mild one.", "Use soap, for example a mild one."),
    ("Call your nurse and/or doctor.", "Call your nurse and or doctor."),
    ("Wash your hands.", "Wash your hands."),
]

SPANISH = [
    ("Llame al 911.", "Llame al 9 1 1."),
    ("Tome 10 mL.", "Tome 10 mililitros."),
    ("Tome 1 mg.", "Tome 1 miligramo."),
    ("Tome 2,5 mg.", "Tome 2,5 miligramos."),
    ("La dosis es 60 mg/m².", "La dosis es 60 miligramos por metro cuadrado."),
    ("Si tiene fiebre de 38 °C, llame.", "Si tiene fiebre de 38 grados centígrados, llame."),
    ("Tome 1/2 tableta.", "Tome media tableta."),
    ("Tómelo q8h.", "Tómelo cada 8 horas."),
    ("Tómelo a las 8:00 a.m.", "Tómelo a las 8 de la mañana."),
    ("Tómelo a las 2:30 p.m.", "Tómelo a las 2 y 30 de la tarde."),
    ("Alrededor del 30 % de las mujeres.", "Alrededor del 30 por ciento de las mujeres."),
    ("Repita x2.", "Repita 2 veces."),
]


@pytest.mark.parametrize("written, said", ENGLISH, ids=[w for w, _ in ENGLISH])
def test_english_is_said_as_a_nurse_says_it(written: str, said: str) -> None:
    assert spoken(written, words_for("en-US")) == said


@pytest.mark.parametrize("written, said", SPANISH, ids=[w for w, _ in SPANISH])
def test_spanish_is_said_as_a_nurse_says_it(written: str, said: str) -> None:
    assert spoken(written, words_for("es-US")) == said


def test_there_are_at_least_forty_cases_in_two_languages() -> None:
    assert len(ENGLISH) + len(SPANISH) >= 40 and SPANISH
