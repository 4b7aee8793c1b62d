# Chemistry: titration of a weak acid with a strong base, with the equivalence point marked.
import matplotlib.pyplot as plt
import numpy as np

volume = np.linspace(0, 50, 400)
ph = 4.2 + 5.6 / (1 + np.exp(-(volume - 25) / 1.3)) + 0.04 * volume

fig, ax = plt.subplots(figsize=(6, 4.5))
ax.plot(volume, ph, color="darkgreen", linewidth=2)
ax.axvline(25, color="black", linestyle=":", linewidth=1)
ax.plot([25], [4.2 + 2.8 + 1.0], "o", color="crimson", markersize=8)
ax.annotate("equivalence point", xy=(25, 8.0), xytext=(30, 6.0),
            arrowprops=dict(arrowstyle="->", color="crimson"))
ax.set_xlabel("volume of NaOH added (mL)")
ax.set_ylabel("pH")
ax.set_xlim(0, 50)
ax.set_ylim(2, 14)
ax.grid(True, alpha=0.3)
ax.set_title("Titration curve")
plt.show()
