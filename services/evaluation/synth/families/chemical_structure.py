"""Chemical structures: skeletal formulas drawn with lines and text (no chemistry toolkit): straight
chains with a functional group (alcohols, acids, aldehydes, ketones, amines, haloalkanes, alkenes),
benzene rings with one or two substituents (Kekulé or with the aromatic circle) and cycloalkanes,
titled with the name and the molecular formula."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from ._common import colors, figure_size, num, str_list, text

NAME = "chemical_structure"
ROOTS = {2: "eth", 3: "prop", 4: "but", 5: "pent", 6: "hex", 7: "hept", 8: "oct"}
# A group drawn as one label: its composition and the bonds it makes (one).
GROUPS = {"OH": {"O": 1, "H": 1}, "NH₂": {"N": 1, "H": 2}, "NO₂": {"N": 1, "O": 2}, "Cl": {"Cl": 1},
          "Br": {"Br": 1}}
MASSES = {"C": 12.011, "H": 1.008, "N": 14.007, "O": 15.999, "Cl": 35.45, "Br": 79.904}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
COS30 = math.cos(math.radians(30))


@dataclass
class Molecule:
    atoms: list[tuple[str, float, float]] = field(default_factory=list)  # (label, x, y); "C" is not drawn
    bonds: list[tuple[int, int, int]] = field(default_factory=list)  # (atom, atom, order)

    def add(self, label: str, x: float, y: float) -> int:
        self.atoms.append((label, round(x, 2), round(y, 2)))
        return len(self.atoms) - 1

    def bond(self, first: int, second: int, order: int = 1) -> None:
        self.bonds.append((first, second, order))

    def composition(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        used = [0] * len(self.atoms)
        for first, second, order in self.bonds:
            used[first] += order
            used[second] += order
        for (label, _, _), bonded in zip(self.atoms, used, strict=True):
            if label == "C":  # hydrogens fill a carbon's four bonds
                counts["C"] = counts.get("C", 0) + 1
                counts["H"] = counts.get("H", 0) + 4 - bonded
            elif label == "O":  # a carbonyl oxygen
                counts["O"] = counts.get("O", 0) + 1
            else:
                for element, count in GROUPS[label].items():
                    counts[element] = counts.get(element, 0) + count
        return counts

    def formula(self) -> str:
        """Hill order: C, H, then the rest alphabetically; counts as subscripts."""
        counts = self.composition()
        order = ["C", "H"] + sorted(e for e in counts if e not in ("C", "H"))
        return "".join(e + (str(counts[e]).translate(SUBSCRIPTS) if counts[e] > 1 else "")
                       for e in order if e in counts)

    def mass(self) -> float:
        return sum(MASSES[e] * n for e, n in self.composition().items())


def _zigzag(index: int) -> tuple[float, float]:
    return index * COS30, 0.5 if index % 2 else 0.0


def _chain(rng: random.Random) -> tuple[Molecule, str, list[int]]:
    """A zigzag chain of n carbons with a functional group at its end (or a ketone's oxygen at C2)."""
    kind = rng.choice(("alkane", "alcohol", "acid", "aldehyde", "ketone", "amine", "halide", "alkene"))
    n = rng.randint(3 if kind == "ketone" else 2, 7 if kind != "alkane" else 8)
    if kind == "alkane":
        n = max(n, 3)
    mol = Molecule()
    carbons = [mol.add("C", *_zigzag(i)) for i in range(n)]
    for i in range(n - 1):
        mol.bond(carbons[i], carbons[i + 1], 2 if kind == "alkene" and i == 0 else 1)
    root = ROOTS[n]
    if kind == "alkane":
        name = root + "ane"
    elif kind == "alkene":
        name = {2: "ethene", 3: "propene"}.get(n, f"{root}-1-ene")
    elif kind in ("alcohol", "amine", "halide"):
        label = {"alcohol": "OH", "amine": "NH₂", "halide": rng.choice(("Cl", "Br"))}[kind]
        group = mol.add(label, *_zigzag(n))
        mol.bond(carbons[-1], group)
        if kind == "alcohol":
            name = "ethanol" if n == 2 else f"{root}an-1-ol"
        elif kind == "amine":
            name = "ethanamine" if n == 2 else f"{root}an-1-amine"
        else:
            halo = "chloro" if label == "Cl" else "bromo"
            name = f"{halo}ethane" if n == 2 else f"1-{halo}{root}ane"
    elif kind == "aldehyde":
        oxygen = mol.add("O", *_zigzag(n))
        mol.bond(carbons[-1], oxygen, 2)
        name = f"{root}anal"
    elif kind == "acid":
        x, y = _zigzag(n - 1)
        up = 1 if y > 0 else -1
        oxygen = mol.add("O", x, y + up)
        mol.bond(carbons[-1], oxygen, 2)
        hydroxyl = mol.add("OH", *_zigzag(n))
        mol.bond(carbons[-1], hydroxyl)
        name = f"{root}anoic acid"
    else:  # ketone: the oxygen on C2
        x, y = _zigzag(1)
        oxygen = mol.add("O", x, y + (1 if y > 0 else -1))
        mol.bond(carbons[1], oxygen, 2)
        name = "propanone" if n == 3 else f"{root}an-2-one"
    # Locants count from the end nearer the group: a group at the chain's end is on carbon 1.
    at_end = kind in ("alcohol", "amine", "halide", "aldehyde", "acid")
    return mol, name, carbons[::-1] if at_end else carbons


def _ring(rng: random.Random) -> tuple[Molecule, str, list[int]]:
    """A benzene, cyclohexane or cyclopentane ring, pointing up, with substituents outward."""
    kind = rng.choice(("benzene", "benzene", "benzene", "cyclohexane", "cyclopentane"))
    size = 5 if kind == "cyclopentane" else 6
    radius = 1 / (2 * math.sin(math.pi / size))  # bonds of length 1
    angles = [90 - 360 / size * k for k in range(size)]  # clockwise from the top
    mol = Molecule()
    ring = [mol.add("C", radius * math.cos(math.radians(a)), radius * math.sin(math.radians(a))) for a in angles]
    for k in range(size):
        order = 2 if kind == "benzene" and k % 2 == 0 else 1
        mol.bond(ring[k], ring[(k + 1) % size], order)

    def outward(position: int, distance: float = 1.0) -> tuple[float, float]:
        a = math.radians(angles[position])
        return (radius + distance) * math.cos(a), (radius + distance) * math.sin(a)

    def attach(position: int, substituent: str) -> None:
        if substituent == "CH₃":
            atom = mol.add("C", *outward(position))
            mol.bond(ring[position], atom)
        elif substituent == "COOH":
            carbon = mol.add("C", *outward(position))
            mol.bond(ring[position], carbon)
            a = math.radians(angles[position])
            for turn, label, order in ((60, "O", 2), (-60, "OH", 1)):
                b = a + math.radians(turn)
                x, y = mol.atoms[carbon][1:]
                mol.bond(carbon, mol.add(label, x + math.cos(b), y + math.sin(b)), order)
        else:
            mol.bond(ring[position], mol.add(substituent, *outward(position)))

    if kind != "benzene":
        substituent = rng.choice(("OH", "CH₃", "Cl", "NH₂", "Br"))
        attach(0, substituent)
        stem = {5: "cyclopentane", 6: "cyclohexane"}[size]
        name = {"OH": stem[:-1] + "ol", "CH₃": "methyl" + stem, "Cl": "chloro" + stem, "Br": "bromo" + stem,
                "NH₂": stem[:-1] + "amine"}[substituent]
        return mol, name, ring
    parents = {"OH": "phenol", "NH₂": "aniline", "COOH": "benzoic acid", "CH₃": "toluene", "Cl": "chlorobenzene",
               "NO₂": "nitrobenzene", "Br": "bromobenzene"}
    parent = rng.choice(sorted(parents))
    attach(0, parent)
    name = parents[parent]
    if parent in ("OH", "NH₂", "COOH", "CH₃") and rng.random() < 0.6:
        second = rng.choice([s for s in ("Cl", "Br", "NO₂", "CH₃") if s != parent])
        position = rng.choice((1, 2, 3))  # ring positions 2, 3, 4 relative to the parent group at 1
        attach(position, second)
        prefix = {"Cl": "chloro", "Br": "bromo", "NO₂": "nitro", "CH₃": "methyl"}[second]
        name = f"{position + 1}-{prefix}{name}"
    return mol, name, ring


def program(rng: random.Random) -> str:
    mol, name, skeleton = _ring(rng) if rng.random() < 0.5 else _chain(rng)
    if rng.random() < 0.3:  # mirrored top to bottom
        mol.atoms = [(label, x, -y if y else 0.0) for label, x, y in mol.atoms]
    keys, counters = [], {}
    for label, _, _ in mol.atoms:
        element = {"OH": "O", "NH₂": "N", "NO₂": "N"}.get(label, label)
        counters[element] = counters.get(element, 0) + 1
        keys.append(f"{element}{counters[element]}")
    atom_lines = "\n".join(f'    "{k}": ("{label}", {num(x)}, {num(y)}),'
                           for k, (label, x, y) in zip(keys, mol.atoms, strict=True))
    bond_lines = "\n".join(f'    ("{keys[a]}", "{keys[b]}", {order}),' for a, b, order in mol.bonds)
    is_benzene = name.endswith(("benzene", "phenol", "aniline", "benzoic acid", "toluene"))
    aromatic_circle = is_benzene and rng.random() < 0.35
    if aromatic_circle:  # the ring's bonds drawn single, with a circle inside
        ring_keys = {keys[i] for i in skeleton}
        bond_lines = "\n".join(
            f'    ("{keys[a]}", "{keys[b]}", {1 if keys[a] in ring_keys and keys[b] in ring_keys else order}),'
            for a, b, order in mol.bonds)
    circle_code = ('ring = [atoms[key][1:] for key in ring_atoms]\n'
                   'ax.add_patch(plt.Circle(np.mean(ring, axis=0), 0.55, fill=False, color=bond_color, '
                   'linewidth=line_width))\n') if aromatic_circle else ""
    ring_line = f"ring_atoms = {str_list(keys[i] for i in skeleton)}\n" if aromatic_circle else ""
    numbering = rng.random() < 0.25
    number_code = ('for number, key in enumerate(skeleton, start=1):  # locants beside the skeleton\'s carbons\n'
                   '    label, x, y = atoms[key]\n'
                   '    ax.text(x + 0.12, y - 0.18, str(number), fontsize=7, color="gray")\n') if numbering else ""
    skeleton_line = f"skeleton = {str_list(keys[i] for i in skeleton)}\n" if numbering else ""
    display = name[0].upper() + name[1:]
    formula, mass = mol.formula(), mol.mass()
    title = rng.choice((f"{display}, {formula}", f"{display} ({formula}, {mass:.2f} g/mol)", display,
                        f"Skeletal formula of {name}", f"{formula}: {name}", f"{display}, M = {mass:.1f} g/mol"))
    bond_color, label_color = (colors(rng, 2) if rng.random() < 0.3 else ("black", rng.choice(("black", "firebrick",
                                                                                                  "darkblue"))))
    return f'''import numpy as np
import matplotlib.pyplot as plt

# name: (label, x, y); carbons ("C") are the skeleton's corners and ends, drawn without a label
atoms = {{
{atom_lines}
}}
# (atom, atom, bond order)
bonds = [
{bond_lines}
]
{ring_line}{skeleton_line}bond_color, label_color = "{bond_color}", "{label_color}"
line_width = {num(rng.choice((1.5, 2, 2.5)))}
bond_gap = {num(rng.choice((0.08, 0.1, 0.12)))}  # between the lines of a double bond

fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("wide", "square")))})
for start, end, order in bonds:
    (x0, y0), (x1, y1) = atoms[start][1:], atoms[end][1:]
    length = np.hypot(x1 - x0, y1 - y0)
    across = np.array([y0 - y1, x1 - x0]) / length * bond_gap
    for shift in ([0] if order == 1 else [-0.5, 0.5]):
        ax.plot([x0 + shift * across[0], x1 + shift * across[0]], [y0 + shift * across[1], y1 + shift * across[1]],
                color=bond_color, linewidth=line_width, solid_capstyle="round")
{circle_code}for key, (label, x, y) in atoms.items():
    if label != "C":
        ax.text(x, y, label, ha="center", va="center", fontsize={rng.choice((12, 13, 14))}, color=label_color,
                bbox={{"facecolor": "white", "edgecolor": "none", "pad": 1}})
{number_code}ax.set_title({text(title)})
ax.set_aspect("equal")
ax.margins(0.2)
ax.axis("off")
plt.show()
'''
