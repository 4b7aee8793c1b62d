# A 2x2 grid of panels: a damped oscillation, a scatter, bars and a pie (the reference).
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(3)
fig, axes = plt.subplots(2, 2, figsize=(8, 6))
t = np.linspace(0, 10, 200)
axes[0, 0].plot(t, np.exp(-t / 3) * np.sin(2 * t), color="C0")
axes[0, 0].set_title("damped oscillation")
px, py = rng.normal(size=60), rng.normal(size=60)
axes[0, 1].scatter(px, py, color="#d62728", s=18)
axes[0, 1].set_title("scatter")
axes[1, 0].bar(["A", "B", "C"], [3, 7, 5], color=["#4c72b0", "#dd8452", "#55a868"])
axes[1, 0].set_title("bars")
axes[1, 1].pie([40, 35, 25], labels=["x", "y", "z"], colors=["#8172b3", "#937860", "#da8bc3"],
               autopct="%1.0f%%")
axes[1, 1].set_title("pie")
fig.suptitle("Four panels")
fig.tight_layout()
plt.show()
