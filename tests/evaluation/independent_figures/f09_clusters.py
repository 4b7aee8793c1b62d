# Data: three clusters of measurements with different markers and their centres.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(8)
centres = [(1.0, 2.0), (4.0, 4.5), (5.0, 1.0)]
markers = ["o", "^", "s"]
colours = ["tab:red", "tab:green", "tab:blue"]

fig, ax = plt.subplots(figsize=(6, 5))
for k, ((cx, cy), marker, colour) in enumerate(zip(centres, markers, colours, strict=True)):
    points = rng.normal((cx, cy), 0.55, size=(40, 2))
    ax.scatter(points[:, 0], points[:, 1], marker=marker, color=colour, alpha=0.7, label=f"cluster {k + 1}")
    ax.plot(cx, cy, "kx", markersize=12, markeredgewidth=2)
ax.set_xlabel("feature 1")
ax.set_ylabel("feature 2")
ax.legend(loc="upper left")
ax.set_aspect("equal")
plt.show()
