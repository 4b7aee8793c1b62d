# Mathematics: rose curves in polar coordinates.
import matplotlib.pyplot as plt
import numpy as np

theta = np.linspace(0, 2 * np.pi, 1000)
fig, ax = plt.subplots(subplot_kw={"projection": "polar"}, figsize=(5, 5))
for k, color in [(2, "crimson"), (3, "teal"), (5, "goldenrod")]:
    ax.plot(theta, np.cos(k * theta), color=color, label=f"r = cos({k}θ)")
ax.set_rmax(1.1)
ax.legend(loc="upper right", bbox_to_anchor=(1.3, 1.1))
ax.set_title("Rose curves")
plt.savefig("rose.png")
