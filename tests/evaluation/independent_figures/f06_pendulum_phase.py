# Dynamics: the phase portrait of a pendulum, as streamlines of its vector field.
import matplotlib.pyplot as plt
import numpy as np

theta, omega = np.meshgrid(np.linspace(-2 * np.pi, 2 * np.pi, 60), np.linspace(-3, 3, 40))
dtheta = omega
domega = -np.sin(theta)

fig, ax = plt.subplots(figsize=(7, 4))
ax.streamplot(theta, omega, dtheta, domega, color=np.hypot(dtheta, domega), cmap="viridis", density=1.2)
ax.set_xlabel(r"angle $\theta$ (rad)")
ax.set_ylabel(r"angular velocity $\omega$ (rad/s)")
ax.set_title("Pendulum phase portrait")
ax.set_xlim(-2 * np.pi, 2 * np.pi)
ax.set_ylim(-3, 3)
plt.show()
