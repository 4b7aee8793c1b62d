# Signals: a noisy two-tone signal and its spectrum (scipy.signal).
import matplotlib.pyplot as plt
import numpy as np
from scipy import signal

fs = 1000
t = np.arange(0, 1, 1 / fs)
rng = np.random.default_rng(2)
x = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 120 * t) + 0.3 * rng.normal(size=t.size)
f, pxx = signal.welch(x, fs, nperseg=256)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.plot(t[:200], x[:200], lw=0.8)
ax1.set_xlabel("t (s)")
ax1.set_title("signal")
ax2.semilogy(f, pxx, color="tab:orange")
ax2.set_xlabel("frequency (Hz)")
ax2.set_ylabel("PSD")
ax2.set_title("Welch spectrum")
fig.tight_layout()
plt.savefig("spectrum.png")
