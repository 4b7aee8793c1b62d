# Variant: the same plot, other title, axis labels and legend texts.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 400)
fig, ax = plt.subplots(figsize=(6.4, 4.8))
ax.plot(x, np.sin(x), color="tab:blue", label="sine")
ax.plot(x, np.cos(x), "--", color="tab:red", label="cosine")
ax.plot(x, 0.5 * np.sin(2 * x), color="tab:green", label="half sine, double frequency")
ax.axhline(0, color="black", linewidth=0.8)
ax.set_title("Periodic signals")
ax.set_xlabel("t (s)")
ax.set_ylabel("amplitude")
ax.legend(loc="upper right")
ax.grid(True, alpha=0.3)
plt.show()
