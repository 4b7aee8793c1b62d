# Electromagnetism: the radiation pattern of a half-wave dipole, in polar coordinates.
import matplotlib.pyplot as plt
import numpy as np

angle = np.linspace(0, 2 * np.pi, 720)
with np.errstate(divide="ignore", invalid="ignore"):
    pattern = np.abs(np.cos(np.pi / 2 * np.cos(angle)) / np.sin(angle))
pattern = np.nan_to_num(pattern)

fig = plt.figure(figsize=(5, 5))
ax = fig.add_subplot(projection="polar")
ax.plot(angle, pattern, color="purple", linewidth=2)
ax.fill(angle, pattern, color="purple", alpha=0.15)
ax.set_rticks([0.25, 0.5, 0.75, 1.0])
ax.set_title("Half-wave dipole pattern")
plt.show()
