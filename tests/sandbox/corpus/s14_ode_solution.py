# Physics: a damped pendulum solved with scipy.integrate, in two stacked panels.
import matplotlib.pyplot as plt
import numpy as np
from scipy.integrate import solve_ivp


def pendulum(t, y, b=0.25, g_over_l=9.81):
    theta, omega = y
    return [omega, -b * omega - g_over_l * np.sin(theta)]

sol = solve_ivp(pendulum, (0, 12), [2.5, 0.0], dense_output=True, max_step=0.05)
t = np.linspace(0, 12, 600)
theta, omega = sol.sol(t)
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
ax1.plot(t, theta, color="darkgreen")
ax1.set_ylabel(r"$\theta$ (rad)")
ax2.plot(t, omega, color="darkred")
ax2.set_ylabel(r"$\omega$ (rad/s)")
ax2.set_xlabel("t (s)")
ax1.set_title("Damped pendulum")
plt.savefig("pendulum.png", dpi=300)
