# Astronomy: the radii of the planets as horizontal bars on a logarithmic axis.
import matplotlib.pyplot as plt

planets = ["Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"]
radii_km = [2440, 6052, 6371, 3390, 69911, 58232, 25362, 24622]

fig, ax = plt.subplots(figsize=(6.5, 4.5))
ax.barh(planets, radii_km, color="slategray")
ax.set_xscale("log")
ax.invert_yaxis()
ax.set_xlabel("radius (km)")
ax.set_title("Planet radii")
plt.show()
