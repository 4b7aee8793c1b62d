"""Text for titles, axis labels, legends and names, drawn from a seeded random source.

Three sources, mixed by the templates:
- STEM quantities with their symbols and units (temperature in °C, wavelength λ in nm, stress σ in MPa),
  written as axis labels in the ways people write them: "Temperature (°C)", "Pressure [kPa]", "$T$ (K)";
- made-up proper names from syllables (stations, species, samples): "Kelomar", "Station Trivo";
- generic words of the Python documentation (_words.py, derived from pydoc_data by
  services/evaluation/synth/wordlist.py), for categories, groups and title words.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ._words import WORDS


@dataclass(frozen=True)
class Quantity:
    name: str  # "Temperature", as it starts a label
    symbol: str  # mathtext without the dollars: "T", r"\lambda"
    unit: str  # "°C"; "" for a pure number
    low: float  # a typical range of values
    high: float

    @property
    def lower(self) -> str:
        """The name inside a sentence: "temperature", but "pH" and "CO₂ level" keep their capitals."""
        first = self.name.split()[0]
        return self.name if first[1:] != first[1:].lower() or first.isupper() else self.name[0].lower() + self.name[1:]


QUANTITIES = (
    Quantity("Temperature", "T", "°C", -5, 35), Quantity("Pressure", "p", "kPa", 95, 105),
    Quantity("Voltage", "V", "V", 0, 12), Quantity("Current", "I", "mA", 5, 400),
    Quantity("Mass", "m", "kg", 0.5, 20), Quantity("Velocity", "v", "m/s", 0, 30),
    Quantity("Acceleration", "a", "m/s²", 0, 10), Quantity("Concentration", "c", "mol/L", 0.05, 2),
    Quantity("Absorbance", "A", "", 0.05, 1.5), Quantity("Frequency", "f", "Hz", 10, 500),
    Quantity("Wavelength", r"\lambda", "nm", 400, 700), Quantity("Energy", "E", "kJ", 1, 50),
    Quantity("Power", "P", "W", 5, 200), Quantity("Resistance", "R", "Ω", 10, 500),
    Quantity("Height", "h", "m", 1, 50), Quantity("Distance", "d", "km", 1, 100),
    Quantity("Population", "N", "thousands", 1, 80), Quantity("Crop yield", "Y", "t/ha", 1, 9),
    Quantity("Rainfall", "R", "mm", 2, 120), Quantity("Growth rate", "r", "% per day", 0.5, 8),
    Quantity("Density", r"\rho", "kg/m³", 500, 3000), Quantity("Force", "F", "N", 2, 100),
    Quantity("Magnetic field", "B", "mT", 1, 50), Quantity("Illuminance", "E_v", "lx", 100, 2000),
    Quantity("Reaction rate", "k", "mmol/s", 0.1, 5), Quantity("Heart rate", r"f_H", "bpm", 50, 160),
    Quantity("Sound level", "L", "dB", 30, 100), Quantity("Salinity", "S", "g/kg", 30, 40),
    Quantity("Efficiency", r"\eta", "%", 20, 95), Quantity("Wind speed", "u", "km/h", 2, 60),
    Quantity("Solubility", "s", "g/100 mL", 1, 40), Quantity("Angular speed", r"\omega", "rad/s", 1, 20),
    Quantity("Strain", r"\varepsilon", "%", 0.1, 5), Quantity("Stress", r"\sigma", "MPa", 10, 400),
    Quantity("Count rate", "C", "counts/min", 10, 900), Quantity("Relative humidity", r"\phi", "%", 20, 95),
    Quantity("Elevation", "z", "m", 10, 2500), Quantity("Dissolved oxygen", r"c_{O_2}", "mg/L", 2, 12),
    Quantity("pH", "pH", "", 4, 9), Quantity("CO₂ level", r"c_{CO_2}", "ppm", 380, 480),
    Quantity("Thermal conductivity", r"\kappa", "W/(m·K)", 0.1, 400), Quantity("Speed", "v", "km/h", 5, 120),
    Quantity("Signal strength", "S", "dBm", -90, -30), Quantity("Enzyme activity", "A", "U/mL", 1, 30),
)
# Quantities that run along an x axis in order: the independent variable of a series.
ORDERED = (
    Quantity("Time", "t", "s", 0, 60), Quantity("Time", "t", "min", 0, 120), Quantity("Time", "t", "h", 0, 48),
    Quantity("Day", "d", "", 1, 30), Quantity("Year", "", "", 2000, 2024), Quantity("Depth", "z", "m", 0, 200),
    Quantity("Distance", "x", "cm", 0, 100), Quantity("Temperature", "T", "K", 250, 400),
    Quantity("Voltage", "U", "V", 0, 10), Quantity("Dose", "D", "mg", 0, 50),
    Quantity("Altitude", "h", "km", 0, 12), Quantity("Frequency", "f", "kHz", 1, 20),
    Quantity("Load", "F", "kN", 0, 50), Quantity("Position", "x", "m", 0, 10),
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LONG_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "sigma", "omega")
PLACES = ("Site", "Station", "Plot", "Well", "Reactor", "Zone", "Lake", "Sample", "Batch", "Trial", "Line",
          "Group", "Strain", "Field", "Probe", "Unit", "Cohort", "Bay", "Ward", "Lab")
# Syllables of made-up names: common enough to read, not a real place.
ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr",
          "st", "tr", "pl", "th", "ch")
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ia", "ou")
CODAS = ("", "", "", "n", "r", "s", "l", "m", "th")


def quantity(rng: random.Random, *, exclude: tuple[Quantity, ...] = ()) -> Quantity:
    return rng.choice([q for q in QUANTITIES if q not in exclude and q.name not in {e.name for e in exclude}])


def quantities(rng: random.Random, count: int) -> list[Quantity]:
    chosen: list[Quantity] = []
    for _ in range(count):
        chosen.append(quantity(rng, exclude=tuple(chosen)))
    return chosen


def ordered(rng: random.Random) -> Quantity:
    return rng.choice(ORDERED)


def value_in(rng: random.Random, q: Quantity) -> float:
    return rng.uniform(q.low, q.high)


def digits_for(q: Quantity) -> int:
    """Decimals worth printing for values of q: fewer for wide ranges."""
    span = abs(q.high - q.low)
    return 0 if span >= 100 else 1 if span >= 5 else 2


def axis_label(rng: random.Random, q: Quantity) -> str:
    """q as an axis label, in one of the ways people write one."""
    if not q.unit:
        return rng.choice((q.name, f"${q.symbol}$" if q.symbol and q.symbol != q.name else q.name))
    forms = [f"{q.name} ({q.unit})", f"{q.name} [{q.unit}]", f"{q.name}, {q.unit}", f"{q.name} in {q.unit}"]
    if q.symbol:
        forms += [f"${q.symbol}$ ({q.unit})", f"{q.name} ${q.symbol}$ ({q.unit})"]
    return rng.choice(forms)


def word(rng: random.Random) -> str:
    return rng.choice(WORDS)


def words(rng: random.Random, count: int) -> list[str]:
    return rng.sample(WORDS, count)


def made_up_name(rng: random.Random) -> str:
    syllables = rng.choice((2, 2, 3))
    parts = [rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables)]
    return ("".join(parts) + rng.choice(CODAS)).capitalize()


def made_up_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = made_up_name(rng)
        if name not in names:
            names.append(name)
    return names


def labels(rng: random.Random, count: int) -> list[str]:
    """`count` distinct names for categories, groups or series, in one style chosen by the seed."""
    style = rng.choice(("word", "name", "place_letter", "place_number", "place_name", "code", "greek"))
    if style == "word" or (style == "greek" and count > len(GREEK)):
        return [w.capitalize() for w in words(rng, count)]
    if style == "name":
        return made_up_names(rng, count)
    place = rng.choice(PLACES)
    if style == "place_letter":
        return [f"{place} {chr(ord('A') + i)}" for i in range(count)]
    if style == "place_number":
        start = rng.choice((1, 1, 2, 10, 101))
        return [f"{place} {start + i}" for i in range(count)]
    if style == "place_name":
        return [f"{place} {name}" for name in made_up_names(rng, count)]
    if style == "code":
        prefix = rng.choice("ABCDEFHKLMNPRSTVX")
        numbers = sorted(rng.sample(range(1, 60), count))
        form = rng.choice(("{}-{:02d}", "{}{}", "{}{:03d}"))
        return [form.format(prefix, n) for n in numbers]
    return [g.capitalize() for g in rng.sample(GREEK, count)]


def title(rng: random.Random, y: Quantity, x: Quantity | None = None, group: str | None = None) -> str:
    """A plot title about quantity y (against x, over groups called `group`), from one of many templates."""
    subject = rng.choice((word(rng), made_up_name(rng)))
    forms = [f"{y.name} by {group or word(rng)}", f"Measured {y.lower}", f"{y.name} of the {subject} samples",
             f"{subject.capitalize()} study: {y.lower}",
             f"{y.name} across {rng.randint(2, 12)} {rng.choice(PLACES).lower()}s",
             f"Observed {y.lower} ({rng.choice(('field', 'lab', 'pilot', 'survey', 'bench'))} data)",
             f"{y.name} in the {subject} experiment", f"Run {rng.randint(1, 40)}: {y.lower}"]
    if x is not None:
        over = f"{y.name} over {x.lower}" if x.name in ("Time", "Day", "Year") else f"{y.name} and {x.lower}"
        forms += [f"{y.name} against {x.lower}", f"{y.name} vs. {x.lower}", f"How {y.lower} changes with {x.lower}",
                  f"{y.name} as a function of {x.lower}", over]
    return rng.choice(forms)


def caption_number(rng: random.Random) -> str:
    """A figure-number prefix some titles carry: "Fig. 3: ", "Figure 2.1 " or nothing."""
    return rng.choice(("", "", "", "", f"Fig. {rng.randint(1, 9)}: ",
                       f"Figure {rng.randint(1, 6)}.{rng.randint(1, 9)} "))


SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def identifier(name: str) -> str:
    """A Python variable name for a quantity or thing: "CO₂ level" -> "co2_level"."""
    ascii_name = "".join(c if c.isascii() and c.isalnum() else " " for c in name.translate(SUBSCRIPT_DIGITS))
    snake = "_".join(ascii_name.lower().split()) or "values"
    return snake if not snake[0].isdigit() else f"v_{snake}"


def exercise_prefix(rng: random.Random) -> str:
    """How a textbook or exam labels a figure: "Q3. ", "Problem 7: ", "(b) " or, most often, nothing."""
    return rng.choice(("", "", "", "", f"Q{rng.randint(1, 20)}. ", f"Problem {rng.randint(1, 30)}: ",
                       f"Exercise {rng.randint(1, 9)}.{rng.randint(1, 12)} ", f"Example {rng.randint(1, 12)}: ",
                       f"({rng.choice('abcdef')}) "))
