# Function plot: sine and cosine with a legend, saved with plt.savefig.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 400)
plt.figure(figsize=(6.4, 4.8))
plt.plot(x, np.sin(x), label="sin x", color="tab:blue")
plt.plot(x, np.cos(x), "--", label="cos x", color="tab:red")
plt.axhline(0, color="black", linewidth=0.8)
plt.title("Trigonometric functions")
plt.xlabel("x (rad)")
plt.ylabel("y")
plt.legend()
plt.grid(True, alpha=0.3)
plt.savefig("trig.png", dpi=300)
