# Kinematics: position and velocity of a braking car, two panels sharing the time axis.
import matplotlib.pyplot as plt
import numpy as np

t = np.linspace(0, 6, 300)
v = np.clip(20 - 4 * t, 0, None)
x = np.where(t < 5, 20 * t - 2 * t ** 2, 50.0)

fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(6, 5.5))
top.plot(t, x, color="teal")
top.set_ylabel("position (m)")
top.grid(alpha=0.3)
bottom.plot(t, v, color="firebrick")
bottom.set_ylabel("velocity (m/s)")
bottom.set_xlabel("time (s)")
bottom.grid(alpha=0.3)
fig.suptitle("Braking car")
plt.show()
