# Physics: projectile trajectories for several launch angles.
import matplotlib.pyplot as plt
import numpy as np

g, v0 = 9.81, 20.0
fig, ax = plt.subplots(figsize=(7, 4))
for angle in (15, 30, 45, 60, 75):
    theta = np.radians(angle)
    t_flight = 2 * v0 * np.sin(theta) / g
    t = np.linspace(0, t_flight, 200)
    ax.plot(v0 * np.cos(theta) * t, v0 * np.sin(theta) * t - 0.5 * g * t ** 2, label=f"{angle}°")
ax.set_xlabel("horizontal distance (m)")
ax.set_ylabel("height (m)")
ax.set_title("Projectile motion, $v_0 = 20$ m/s")
ax.legend(title="launch angle")
ax.set_ylim(bottom=0)
fig.savefig("/results/projectile.png",
            dpi=300,
            bbox_inches="tight")
