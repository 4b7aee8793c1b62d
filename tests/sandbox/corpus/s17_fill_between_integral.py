# Mathematics: the area under a curve, shaded, with the integral in the title.
import matplotlib.pyplot as plt
import numpy as np
from scipy.integrate import quad


def f(x):
    return 0.5 * x ** 2 - x + 2


a, b = 0.5, 3.0
area, _ = quad(f, a, b)
x = np.linspace(-0.5, 4, 300)
xs = np.linspace(a, b, 200)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(x, f(x), "b", lw=2)
ax.fill_between(xs, f(xs), color="lightblue", alpha=0.7)
ax.axvline(a, color="gray", ls=":")
ax.axvline(b, color="gray", ls=":")
ax.set_title(rf"$\int_{{{a}}}^{{{b}}} f(x)\,dx = {area:.3f}$")
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
plt.savefig("area.png", dpi=300)
