# Variant: the same functions drawn as scatter markers (every 10th sample) instead of lines.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 400)[::10]
fig, ax = plt.subplots(figsize=(6.4, 4.8))
ax.scatter(x, np.sin(x), color="tab:blue", label="sin x", s=14)
ax.scatter(x, np.cos(x), color="tab:red", marker="x", label="cos x", s=14)
ax.scatter(x, 0.5 * np.sin(2 * x), color="tab:green", marker="^", label="0.5 sin 2x", s=14)
ax.axhline(0, color="black", linewidth=0.8)
ax.set_title("Trigonometric functions")
ax.set_xlabel("x (rad)")
ax.set_ylabel("y")
ax.legend(loc="upper right")
ax.grid(True, alpha=0.3)
plt.show()
