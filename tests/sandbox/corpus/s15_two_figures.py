# Two separate figures: a function and its derivative (both are returned).
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-2, 2, 300)
plt.figure(figsize=(5, 3.5))
plt.plot(x, x ** 3 - x, color="black")
plt.title("f(x) = x³ − x")
plt.savefig("f.png")

plt.figure(figsize=(5, 3.5))
plt.plot(x, 3 * x ** 2 - 1, color="blue")
plt.axhline(0, color="gray", lw=0.8)
plt.title("f'(x) = 3x² − 1")
plt.savefig("fprime.png")
