# Mechanics: a damped harmonic oscillator, its displacement and the decaying envelope.
import matplotlib.pyplot as plt
import numpy as np

t = np.linspace(0, 10, 600)
gamma, omega = 0.35, 2.4
x = 1.5 * np.exp(-gamma * t) * np.cos(omega * t)
envelope = 1.5 * np.exp(-gamma * t)

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(t, x, color="navy", linewidth=2, label="x(t)")
ax.plot(t, envelope, "r--", linewidth=1, label=r"$\pm A e^{-\gamma t}$")
ax.plot(t, -envelope, "r--", linewidth=1)
ax.axhline(0, color="gray", linewidth=0.8)
ax.set_xlim(0, 10)
ax.set_ylim(-1.7, 1.7)
ax.set_xlabel("time t (s)")
ax.set_ylabel("displacement x (m)")
ax.set_title("Damped oscillation")
ax.legend(loc="upper right")
plt.show()
