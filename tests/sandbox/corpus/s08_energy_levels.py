# Chemistry: a reaction energy profile with labelled states.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 10, 500)
profile = (1.0 * np.exp(-((x - 3) ** 2) / 0.8) + 0.6 * np.exp(-((x - 7) ** 2) / 0.6)
           - 0.4 * (x > 5) * (1 - np.exp(-(x - 5))))
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(x, profile, color="purple", lw=2)
ax.annotate("TS1", xy=(3, profile[150]), xytext=(3, profile[150] + 0.25), ha="center",
            arrowprops=dict(arrowstyle="->"))
ax.annotate("TS2", xy=(7, profile[350]), xytext=(7, profile[350] + 0.25), ha="center",
            arrowprops=dict(arrowstyle="->"))
ax.text(0.3, 0.05, "reactants", fontsize=11)
ax.text(8.7, -0.35, "products", fontsize=11)
ax.set_xlabel("reaction coordinate")
ax.set_ylabel("energy (eV)")
ax.set_xticks([])
ax.set_title("Two-step reaction profile")
plt.tight_layout()
plt.show()
