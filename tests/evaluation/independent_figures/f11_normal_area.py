# Statistics: the standard normal density with the area between z = -1 and z = 1.5 shaded.
import matplotlib.pyplot as plt
import numpy as np

z = np.linspace(-4, 4, 500)
density = np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi)
inside = (z >= -1) & (z <= 1.5)

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(z, density, color="black")
ax.fill_between(z[inside], density[inside], color="skyblue")
ax.text(0.2, 0.15, "P = 0.775", ha="center", fontsize=12)
ax.set_xlabel("z")
ax.set_ylabel("density")
ax.set_ylim(0, 0.45)
ax.set_xticks([-3, -2, -1, 0, 1, 1.5, 2, 3])
plt.show()
