# Variant: the same panels, other colours everywhere.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(3)
fig, axes = plt.subplots(2, 2, figsize=(8, 6))
t = np.linspace(0, 10, 200)
axes[0, 0].plot(t, np.exp(-t / 3) * np.sin(2 * t), color="C5")
axes[0, 0].set_title("damped oscillation")
px, py = rng.normal(size=60), rng.normal(size=60)
axes[0, 1].scatter(px, py, color="#17becf", s=18)
axes[0, 1].set_title("scatter")
axes[1, 0].bar(["A", "B", "C"], [3, 7, 5], color=["#8c564b", "#e377c2", "#7f7f7f"])
axes[1, 0].set_title("bars")
axes[1, 1].pie([40, 35, 25], labels=["x", "y", "z"], colors=["#bcbd22", "#1f77b4", "#ff7f0e"],
               autopct="%1.0f%%")
axes[1, 1].set_title("pie")
fig.suptitle("Four panels")
fig.tight_layout()
plt.show()
