# Function plot: three periodic functions with a legend (the reference of this pair set).
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 400)
fig, ax = plt.subplots(figsize=(6.4, 4.8))
ax.plot(x, np.sin(x), color="tab:blue", label="sin x")
ax.plot(x, np.cos(x), "--", color="tab:red", label="cos x")
ax.plot(x, 0.5 * np.sin(2 * x), color="tab:green", label="0.5 sin 2x")
ax.axhline(0, color="black", linewidth=0.8)
ax.set_title("Trigonometric functions")
ax.set_xlabel("x (rad)")
ax.set_ylabel("y")
ax.legend(loc="upper right")
ax.grid(True, alpha=0.3)
plt.show()
