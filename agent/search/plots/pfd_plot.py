#!/usr/bin/env python3
"""A prepfold candidate plot drawn from the .pfd with matplotlib.

    pfd_plot.py [-o OUT.png] [--json OUT.json] [--dpi 100] CAND.pfd

prepfold draws its one-page plot with PGPLOT. Built against giza (Debian's
PGPLOT replacement) the PostScript page is smaller than the plot (giza ignores
cpgpap), so the right-hand panels, the search information and the bottom of
the plot are cut off in the .ps itself. This script draws the same page again
from the .pfd (read with PRESTO's own presto.prepfold), panel for panel where
prepfold_plot.c puts them, with prepfold_plot.c's numbers:

  * the profiles de-dispersed at the best DM (combine_subbands) and combined
    with the best period's delays (CSS_profs): the summed profile, twice, and
    the time-vs-phase greyscale with the reduced chi^2 growing over time;
  * the sub-band-vs-phase greyscale (each sub-band folded at the best P/DM);
  * the reduced chi^2 of every DM, period and p-dot trial and of the P-Pdot
    plane (combine_profs, corrected by prepfold's effective DOF);
  * the text: candidate, telescope, epochs, T_sample, points folded, data and
    profile statistics, RA/Dec, reduced chi^2 and its P(noise) sigma, the best
    DM, P, P' and P'' (topocentric and barycentric, errors by fold_errors, as
    nice_output_2 writes them) and the binary parameters.

The PNG is landscape, 11 x 8.5 in (1100 x 850 px at the default 100 dpi). A
one-line summary of the plotted values goes to stdout; --json also writes them
(with every text line of the plot) to a file.
"""
import argparse
import json
import math
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

DBL_EPSILON = np.finfo(np.float64).eps
DBLCORRECT = 1e-14


# ---- prepfold's helpers (src/prepfold_utils.c, fold.c, dispersion.c) ----------------------

def test_equal(a, b):
    if a == 0.0:
        return abs(a - b) <= 2 * DBL_EPSILON
    return abs(a - b) / abs(a) <= 2 * DBL_EPSILON


def test_close(a, b, c):
    if a == 0.0:
        return abs(a - b) <= c
    return abs(a - b) / abs(a) <= c


def switch_f_and_p(x, xd, xdd):
    out = 1.0 / x
    d = x * x
    outd = 0.0 if xd == 0.0 else -xd / d
    outdd = 0.0 if xdd == 0.0 else 2.0 * xd * xd / (d * x) - xdd / d
    return out, outd, outdd


def switch_pfdot(pf, pfdot):
    return 0.0 if pf == 0.0 else -pfdot / (pf * pf)


def switch_pfdotdot(pf, pfdot, pfdotdot):
    if pf == 0.0 or pfdotdot == 0.0:
        return 0.0
    return 2.0 * pfdot * pfdot / (pf * pf * pf) - pfdotdot / (pf * pf)


def dof_corr(dt_per_bin):
    power, factor = 1.806, 0.96
    return dt_per_bin * factor * (1.0 + dt_per_bin ** power) ** (-1.0 / power)


def delay_from_dm(dm, freq):
    freq = np.asarray(freq, dtype=np.float64)
    return np.where(freq == 0.0, 0.0, dm / (0.000241 * freq * freq))


def nearest_int(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < 0, np.ceil(x - 0.5), np.floor(x + 0.5)).astype(np.int64)


def subband_delays(numchan, nsub, dm, lofreq, chan_wid, voverc):
    """Delays (s) of the highest channel of each sub-band (dispersion.c)."""
    chan_per_sub = numchan // nsub
    subbw = chan_wid * chan_per_sub
    losub_hifreq = lofreq + subbw - chan_wid
    freqs = (losub_hifreq + np.arange(nsub) * subbw) * (1.0 + voverc)
    return delay_from_dm(dm, freqs)


def rotations(profs):
    """rot[..., o, k] = profs[..., (k + o) % L]: every left rotation of each profile."""
    L = profs.shape[-1]
    idx = (np.arange(L)[None, :] + np.arange(L)[:, None]) % L
    return profs[..., idx]


def rotate_rows(profs, offsets):
    """Row i rotated left by offsets[i] bins: out[i, k] = profs[i, (k + offsets[i]) % L]."""
    L = profs.shape[-1]
    idx = (np.arange(L)[None, :] + np.asarray(offsets)[:, None]) % L
    return profs[np.arange(len(idx))[:, None], idx]


def combine_offsets(delays, L):
    """combine_profs(): the left rotation (bins) applied to each profile for these delays."""
    local = np.fmod(-np.asarray(delays, dtype=np.float64), L)
    local = np.where(local < 0.0, local + L, local)
    return (local + 0.5).astype(np.int64) % L


def chisqr(prof, avg, var):
    d = prof - avg
    return (d * d).sum(axis=-1) / var


def fold_errors(prof, proflen, dt, N, datavar, p, pd, pdd):
    """Middleditch's errors of p, p-dot and p-dotdot from the profile's harmonics (fold.c)."""
    sigpow = 2.7
    T = N * dt
    r = T / p
    z = -pd * r * r
    w = 0.0 if pdd == 0.0 else 2.0 * z * z / r - pdd * r * r * T
    norm = 1.0 / (N * datavar / dof_corr(p / proflen / dt))
    fft = np.fft.fft(np.asarray(prof, dtype=np.float32).astype(np.complex64))
    rerrn = zerrn = werrn = rerrd = zerrd = werrd = 0.0
    gotone = False
    for ii in range(1, proflen // 2):
        pwr = float(fft[ii].real) ** 2 + float(fft[ii].imag) ** 2
        pwr *= norm
        if pwr > sigpow:
            gotone = True
            pwrerr = math.sqrt(2.0 * pwr)
            pwrfact = 1.0 / (math.sqrt(pwr) * ii)
            for k, coef in enumerate((0.38984840062, 3.01975272627, 19.5702343923)):
                err = coef * pwrfact
                errvar = (err / pwrerr) ** 2
                if k == 0:
                    rerrn += err / errvar
                    rerrd += 1.0 / errvar
                elif k == 1:
                    zerrn += err / errvar
                    zerrd += 1.0 / errvar
                else:
                    werrn += err / errvar
                    werrd += 1.0 / errvar
    if gotone:
        rerr, zerr, werr = rerrn / rerrd, zerrn / zerrd, werrn / werrd
    else:
        rerr, zerr, werr = 0.5, 7.8, 50.2
    r2 = r * r
    sr2 = rerr * rerr
    r4 = r2 * r2
    z2 = z * z
    sz2 = zerr * zerr
    dtmp = r * w - 3.0 * z2
    perr = T * rerr / r2
    pderr = math.sqrt(4.0 * z2 * sr2 / (r4 * r2) + sz2 / r4)
    pdderr = math.sqrt((werr * werr * r4 + 16 * z2 * sz2 * r2 + 4.0 * dtmp * dtmp * sr2) / (r4 * r4 * T * T))
    return perr, pderr, pdderr


def nice_output_2(val, err):
    """PRESTO's nice_output_2(): a value rounded by its 2-digit error, e.g. 89.2952(15), 2.4(3.1)x10^-7."""
    errexp = 0 if abs(err) == 0.0 else int(math.floor(math.log10(abs(err))))
    errval = int(math.floor(abs(err) * 10.0 ** (-errexp + 1) + DBLCORRECT + 0.5))
    if errval == 100:
        errval = 10
        errexp += 1
    rndval = 10.0 ** (errexp - 1) * math.floor(val * 10.0 ** (-errexp + 1) + 0.5)
    outexp = 0 if rndval == 0.0 else int(math.floor(math.log10(abs(rndval))))
    valexp = 0 if val == 0.0 else int(math.floor(math.log10(abs(val))))
    outmant = rndval * 10.0 ** (-outexp)
    if outexp < -4:
        tmp = outexp - errexp + 1
        if tmp < 2:
            if tmp == 0:
                s = "% .1f(%d.%d)x10^%d" % (outmant / 10, errval // 10, errval % 10, outexp + 1)
            else:
                s = "% .1f(%d.%d)x10^%d" % (outmant, errval // 10, errval % 10, outexp)
        else:
            s = "% .*f(%.2d)x10^%d" % (tmp, outmant, errval, outexp)
    elif errexp - valexp > 1 and errexp not in (0, 1):
        s = "0.0(%d.%d)x10^%d" % (errval // 10, errval % 10, errexp)
    elif errexp == 0:
        if abs(rndval) < 0.1:
            rndval = abs(rndval)
        s = "% .1f(%d.%d)" % (rndval, errval // 10, errval % 10)
    elif errexp < 0:
        if abs(rndval) * 10.0 ** (-errexp + 1) < 0.1:
            rndval = abs(rndval)
        if abs(rndval) <= DBLCORRECT and errexp < -4:
            s = "0.0(%d.%d)x10^%d" % (errval // 10, errval % 10, errexp)
        else:
            s = "% .*f(%.2d)" % (-errexp + 1, rndval, errval)
    elif errexp - outexp == 0:
        if errexp == 1:
            s = "% d(%.2d)" % (int(rndval), errval)
        else:
            s = "% .1f(%d.%d)x10^%d" % (outmant, errval // 10, errval % 10, errexp)
    elif errexp - outexp == 1:
        if abs(outmant) < 0.99999999999999:
            outmant = abs(outmant)
        s = "% .1f(%d.%d)x10^%d" % (outmant / 10.0, errval // 10, errval % 10, errexp)
    elif errexp > 1 and outexp > 1 and errexp - outexp <= -1:
        s = "% .*f(%.2d)x10^%d" % (outexp - errexp + 1, outmant, errval, outexp)
    elif errexp == 1 and outexp > 0:
        s = "% d(%.2d)" % (int(rndval), errval)
    else:
        s = "%g(%g)" % (val, err)
    return s.strip()


def text_of(b):
    if isinstance(b, bytes):
        b = b.split(b"\0", 1)[0].decode("latin-1")
    return str(b)


# ---- what prepfold_plot() computes ---------------------------------------------------------

class Fold(object):
    """The numbers of prepfold's plot, computed from a presto.prepfold.pfd as prepfold_plot.c does."""

    def __init__(self, pfd):
        self.pfd = pfd
        L = self.proflen = int(pfd.proflen)
        npart, nsub = int(pfd.npart), int(pfd.nsub)
        self.npart, self.nsub = npart, nsub
        raw = np.asarray(pfd.profs, dtype=np.float64).reshape(npart, nsub, L)
        stats = np.asarray(pfd.stats, dtype=np.float64).reshape(npart, nsub, 7)
        self.dms = np.atleast_1d(np.asarray(pfd.dms, dtype=np.float64))
        self.periods = np.asarray(pfd.periods, dtype=np.float64)
        self.pdots = np.asarray(pfd.pdots, dtype=np.float64)
        fold = [float(pfd.fold_p1), float(pfd.fold_p2), float(pfd.fold_p3)]
        self.topo = (float(pfd.topo_p1), float(pfd.topo_p2), float(pfd.topo_p3))
        self.bary = (float(pfd.bary_p1), float(pfd.bary_p2), float(pfd.bary_p3))
        self.dt = float(pfd.dt)
        self.tepoch, self.bepoch = float(pfd.tepoch), float(pfd.bepoch)
        self.bestdm = float(pfd.bestdm)
        self.lofreq, self.chan_wid, self.numchan = float(pfd.lofreq), float(pfd.chan_wid), int(pfd.numchan)
        self.avgvoverc = float(pfd.avgvoverc)

        if test_equal(float(pfd.fold_pow), 1.0):
            bestp, bestpd, bestpdd = self.bary
        else:
            bestp, bestpd, bestpdd = self.topo
        self.bestp, self.bestpd = bestp, bestpd
        dt_per_bin = float(np.float32(bestp / L / self.dt))
        self.dofeff = (L - 1.0) * dof_corr(dt_per_bin)
        chifact = float(np.float32(1.0 / dof_corr(dt_per_bin)))

        def best_index(values, best):
            for i, v in enumerate(values):
                if test_equal(v, best):
                    return i
            return int(np.argmin(np.abs(values - best))) if len(values) else 0

        bestip = best_index(self.periods, bestp)
        bestipd = best_index(self.pdots, bestpd)
        bestidm = best_index(self.dms, self.bestdm) if nsub > 1 else 0
        numperiods = len(self.periods)
        if float(pfd.fold_pow) == 0.0 and bestip == (numperiods - 1) // 2 and bestipd == (numperiods - 1) // 2:
            # prepfold_plot.c: "Assuming this was folded with polycos..."
            fold[0] = 1.0 / self.topo[0]
        self.fold = tuple(fold)
        pfold, pdfold, _ = switch_f_and_p(*fold)
        self.pfold, self.pdfold = pfold, pdfold

        numdata = stats[:, 0, 0]
        self.N = N = float(numdata.sum())
        self.T = N * self.dt
        parttime = numdata[0] * self.dt
        t = (np.arange(npart + 1) * parttime).astype(np.float32).astype(np.float64)
        self.parttimes = t
        tp = t[:npart]

        dfdd = switch_pfdotdot(pfold, pdfold, bestpdd) - fold[2] if bestpdd != 0.0 else 0.0
        pdd_delays = dfdd * tp ** 3 / 6.0

        # De-disperse at the best DM (correct_subbands_for_DM -> combine_subbands).
        rdphase = fold[0] * L
        hif = self.lofreq + (self.numchan - 1.0) * self.chan_wid
        dopplerhif = hif * (1.0 + self.avgvoverc)

        def dm_shifts(dm):
            subd = subband_delays(self.numchan, nsub, dm, self.lofreq, self.chan_wid, self.avgvoverc)
            return nearest_int((subd - float(delay_from_dm(dm, dopplerhif))) * rdphase) % L

        def dedisperse(dm):
            if nsub == 1:
                return raw[:, 0, :]
            idx = (np.arange(L)[None, :] + dm_shifts(dm)[:, None]) % L
            return raw[:, np.arange(nsub)[:, None], idx].sum(axis=1)

        dd = dedisperse(self.dms[bestidm] if nsub > 1 else None)
        dd_prof_avg = stats[:, :, 4].sum(axis=1)
        dd_prof_var = stats[:, :, 5].sum(axis=1)
        gmax = float(dd.max())
        if gmax == 0.0:
            gmax = 1.0

        # The best profile: CSS_profs with the best period's delays.
        df = 1.0 / bestp - fold[0]
        dfd = switch_pfdot(pfold, bestpd) - fold[1]
        delays = (pdd_delays + dfd * tp * tp / 2.0 + df * tp) * L
        local = np.fmod(delays, L)
        local = np.where(local < 0.0, local + L, local)
        right = (local + 0.5).astype(np.int64) % L
        shifted = np.array([np.roll(dd[i], right[i]) for i in range(npart)])
        cum = np.cumsum(shifted, axis=0)
        cum_avg = np.cumsum(dd_prof_avg)
        cum_var = np.cumsum(dd_prof_var)
        redchis = ((cum - cum_avg[:, None]) ** 2).sum(axis=1) / cum_var * (1.0 / (L - 1.0)) * chifact
        self.timechi = np.concatenate(([1.0], redchis.astype(np.float32))).astype(np.float64)
        self.redchi = float(redchis[-1])
        self.bestprof = cum[-1].astype(np.float32).astype(np.float64)
        self.prof_avg = float(cum_avg[-1])
        self.prof_var = float(cum_var[-1])
        self.data_avg = float(stats[:, :, 1].sum() / npart)
        self.data_var = float(stats[:, :, 2].sum() / npart)

        # Time vs phase: each part scaled from its own minimum by the global maximum.
        tprofs = np.zeros((npart, L))
        for i in range(npart):
            lo, hi = shifted[i].min(), shifted[i].max()
            if not test_close(lo, hi, 1.0e-7):
                tprofs[i] = (shifted[i] - lo) / abs(gmax)
        self.timeprofs = tprofs.astype(np.float32)

        # The P-Pdot plane at the best DM (combine_profs for each trial).
        dd_rot_flat = rotations(dd).reshape(npart * L, L)
        base = np.arange(npart) * L
        dfs = 1.0 / self.periods - fold[0]
        npd = len(self.pdots)
        ppdot = np.zeros((npd, numperiods), dtype=np.float32)
        tot_avg, tot_var = float(dd_prof_avg.sum()), float(dd_prof_var.sum())
        for ipd in range(npd):
            dfd_i = switch_pfdot(pfold, self.pdots[ipd]) - fold[1]
            pd_delays = pdd_delays + dfd_i * tp * tp / 2.0
            dl = (pd_delays[None, :] + dfs[:, None] * tp[None, :]) * L
            offs = combine_offsets(dl, L)
            prof = dd_rot_flat[base[None, :] + offs].sum(axis=1)
            ppdot[ipd] = (chisqr(prof, tot_avg, tot_var) / (L - 1.0) * chifact).astype(np.float32)
        self.ppdot = ppdot
        self.periodchi = ppdot[bestipd, :].astype(np.float64)
        self.pdotchi = ppdot[:, bestip].astype(np.float64)

        # DM vs reduced chi^2, and each sub-band folded at the best P and DM.
        best_offs = combine_offsets(delays, L)
        if nsub > 1:
            dmchi = np.zeros(len(self.dms), dtype=np.float32)
            for k, dm in enumerate(self.dms):
                ddk = dedisperse(dm)
                prof = rotate_rows(ddk, best_offs).sum(axis=0)
                dmchi[k] = np.float32(chisqr(prof, tot_avg, tot_var) / (L - 1.0) * chifact)
            self.dmchi = dmchi.astype(np.float64)
            subd = subband_delays(self.numchan, nsub, self.dms[bestidm], self.lofreq, self.chan_wid, self.avgvoverc)
            dmdelays = -(subd - float(delay_from_dm(self.dms[bestidm], dopplerhif))) * rdphase
            subprofs = np.zeros((nsub, L), dtype=np.float32)
            for s in range(nsub):
                offs = combine_offsets(delays[None, :] + dmdelays[s], L)[0]
                subprofs[s] = rotate_rows(raw[:, s, :], offs).sum(axis=0).astype(np.float32)
            sgmax = float(subprofs.max())
            subscaled = np.zeros_like(subprofs)
            for s in range(nsub):
                lo, hi = float(subprofs[s].min()), float(subprofs[s].max())
                if not test_close(lo, hi, 1.0e-7):
                    subscaled[s] = (subprofs[s] - lo) / np.float32(sgmax)
            self.subprofs = subscaled
            lof = self.lofreq - 0.5 * self.chan_wid
            self.subfreq_range = (lof * (1.0 + self.avgvoverc), (lof + self.numchan * self.chan_wid) * (1.0 + self.avgvoverc))

        # Errors (fold_errors with the topocentric values unless only barycentric ones exist).
        if self.tepoch != 0.0 or self.bary[0] == 0.0:
            p1, p2, p3 = self.topo
        else:
            p1, p2, p3 = self.bary
        self.perr, self.pderr, self.pdderr = fold_errors(self.bestprof, L, self.dt, N, self.data_var, p1, p2, p3)

        try:
            from presto.presto import chi2_logp, equivalent_gaussian_sigma
            lnp = float(chi2_logp(self.redchi * self.dofeff, self.dofeff))
            self.sigma = float(equivalent_gaussian_sigma(lnp))
        except ImportError:  # pragma: no cover - PRESTO's C extension missing
            from scipy import special, stats as sstats
            lnp = float(sstats.chi2.logsf(self.redchi * self.dofeff, self.dofeff))
            self.sigma = float(-special.ndtri(math.exp(lnp))) if lnp > -700 else float("nan")
        self.prob = 0.0 if lnp < -700 else math.exp(lnp)

        # Time resolution bar on the profile (radio data only).
        self.ttot = None
        if self.lofreq > 0.0 and self.chan_wid > 0.0:
            fmid = self.lofreq + 0.5 * (self.numchan - 1.0) * self.chan_wid
            tdms = self.bestdm * self.chan_wid / (0.0001205 * fmid ** 3) if fmid else 0.0
            tcbw = 1.0 / (self.chan_wid * 1e6)
            ttot = math.sqrt(tdms * tdms + self.dt * self.dt + tcbw * tcbw)
            self.ttot = ttot / (self.bary[0] if self.bepoch != 0.0 else self.topo[0])

    # ---- the text, as prepfold_plot.c prints it --------------------------------------------

    def lines(self):
        """The Data Info block: (label, value) pairs in prepfold's order and formats (mathtext markup)."""
        pfd = self.pfd
        na = "N/A"
        topo_na = test_equal(self.tepoch, 0.0) or test_equal(self.tepoch, -1.0)
        left = [
            ("Candidate:", text_of(pfd.candnm)),
            ("Telescope:", text_of(pfd.telescope)),
            (r"Epoch$_{\rm topo}$", na if topo_na else "%-.11f" % self.tepoch),
            (r"Epoch$_{\rm bary}$", na if test_equal(self.bepoch, 0.0) else "%-.11f" % self.bepoch),
            (r"T$_{\rm sample}$", "%.5g" % self.dt),
            ("Data Folded", "%-.0f" % self.N),
            ("Data Avg", "%.4g" % self.data_avg),
            ("Data StdDev", "%.4g" % math.sqrt(self.data_var)),
            ("Profile Bins", "%d" % self.proflen),
            ("Profile Avg", "%.4g" % self.prof_avg),
            ("Profile StdDev", "%.4g" % math.sqrt(self.prof_var)),
        ]
        return left

    def crosscheck(self):
        """The best profile's reduced chi^2 by prepfold.py's own methods (dedisperse, adjust_period), or None."""
        try:
            import copy
            pfd = copy.deepcopy(self.pfd)
            if self.nsub > 1:
                pfd.dedisperse(DM=self.bestdm, doppler=True)
            else:
                pfd.dedisperse(DM=0.0)
            stdout = sys.stdout
            sys.stdout = open(os.devnull, "w")  # adjust_period() prints
            try:
                pfd.adjust_period()
                return float(pfd.calc_redchi2())
            finally:
                sys.stdout.close()
                sys.stdout = stdout
        except Exception:  # a check only: never fail the plot for it
            return None

    def values(self):
        """Every number of the text, unrounded, and as plotted."""
        out = {
            "prepfold_py_reduced_chi2": self.crosscheck(),
            "candidate": text_of(self.pfd.candnm),
            "telescope": text_of(self.pfd.telescope),
            "input_file": text_of(self.pfd.filenm),
            "ra": text_of(self.pfd.rastr), "dec": text_of(self.pfd.decstr),
            "epoch_topo": self.tepoch, "epoch_bary": self.bepoch,
            "t_sample": self.dt, "data_folded": self.N,
            "data_avg": self.data_avg, "data_stddev": math.sqrt(self.data_var),
            "profile_bins": self.proflen, "profile_avg": self.prof_avg, "profile_stddev": math.sqrt(self.prof_var),
            "dof_eff": self.dofeff, "reduced_chi2": self.redchi, "prob_noise": self.prob, "sigma": self.sigma,
            "best_dm": self.bestdm if self.nsub > 1 else None,
            "p_topo_ms": self.topo[0] * 1000.0, "pd_topo": self.topo[1], "pdd_topo": self.topo[2],
            "p_bary_ms": self.bary[0] * 1000.0, "pd_bary": self.bary[1], "pdd_bary": self.bary[2],
            "p_err_ms": self.perr * 1000.0, "pd_err": self.pderr, "pdd_err": self.pdderr,
            "nsub": self.nsub, "npart": self.npart,
            "num_dms": len(self.dms), "num_periods": len(self.periods), "num_pdots": len(self.pdots),
        }
        return out


# ---- drawing ---------------------------------------------------------------------------------

FIG_W, FIG_H = 11.0, 8.5
GREY = "Greys"
# prepfold's "anti-rainbow" colour table for the P-Pdot plane (white -> blue -> green -> yellow -> red).
ANTIRAINBOW = ([0.0, 0.035, 0.045, 0.225, 0.4, 0.41, 0.6, 0.775, 0.985, 1.0],
               [1.0, 1.0, 0.947, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
               [1.0, 0.844, 0.8, 0.0, 0.946, 1.0, 1.0, 1.0, 0.0, 0.0],
               [1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.0, 0.0, 0.0, 0.0])

TICK = 7
LABEL = 8
TEXT = 8.5


def pgsvp(fig, x1, x2, y1, y2, **kw):
    """An axes where PGPLOT's cpgsvp(x1, x2, y1, y2) puts its viewport."""
    return fig.add_axes([x1, y1, x2 - x1, y2 - y1], **kw)


def widen(lo, hi):
    """Axis limits; a single trial (no search in that dimension) gets a small span around it."""
    lo, hi = float(lo), float(hi)
    if lo == hi:
        d = abs(lo) * 1e-3 or 1e-12
        return lo - d, hi + d
    return lo, hi


def esc(s):
    return s.replace("$", r"\$")


def style(ax, size=TICK):
    ax.tick_params(labelsize=size, direction="in", top=True, right=True, length=3, width=0.6)
    ax.tick_params(which="minor", direction="in", length=1.5, width=0.5, top=True, right=True)
    for s in ax.spines.values():
        s.set_linewidth(0.8)


def scaled(axis, lims, label):
    """Tick labels of a tiny or huge quantity as plain numbers, the power of ten moved into the axis title
    (matplotlib's offset text would collide with the twin axes' labels)."""
    from matplotlib.ticker import FuncFormatter
    m = max(abs(lims[0]), abs(lims[1]))
    e = int(math.floor(math.log10(m))) if m > 0 and math.isfinite(m) else 0
    if -2 <= e <= 3:
        e = 0
    f = 10.0 ** -e
    axis.set_major_formatter(FuncFormatter(lambda v, pos: ("%.6g" % (v * f)).replace("-", "\u2212") if abs(v * f) > 1e-9 else "0"))
    return label if e == 0 else r"%s  [$\times$10$^{%d}$]" % (label, e)


def draw(fold, out, dpi):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.ticker import AutoMinorLocator, MaxNLocator, MultipleLocator

    plt.rcParams.update({"font.family": "DejaVu Sans", "mathtext.default": "regular", "axes.linewidth": 0.8,
                         "lines.linewidth": 0.9})
    pfd = fold.pfd
    L, npart, nsub, T = fold.proflen, fold.npart, fold.nsub, fold.T
    fig = plt.figure(figsize=(FIG_W, FIG_H), dpi=dpi)
    chi_label = r"Reduced $\chi^2$"

    # Time versus phase (0.06-0.27 x 0.09-0.68).
    ax = pgsvp(fig, 0.06, 0.27, 0.09, 0.68)
    img = np.hstack([fold.timeprofs, fold.timeprofs])
    ax.imshow(img, cmap=GREY, aspect="auto", origin="lower", interpolation="nearest",
              extent=[0.0, 2.0, 0.0, T], vmin=float(img.min()), vmax=float(img.max()) or 1.0)
    ax.set_xlim(0.0, 1.999)
    ax.set_ylim(0.0, T)
    style(ax)
    ax.tick_params(right=False)
    ax.xaxis.set_major_locator(MultipleLocator(0.5))
    ax.xaxis.set_minor_locator(AutoMinorLocator(5))
    ax.yaxis.set_minor_locator(AutoMinorLocator())
    ax.set_xlabel("Phase", fontsize=LABEL, labelpad=2)
    ax.set_ylabel("Time (s)", fontsize=LABEL, labelpad=2)
    parts = ax.twinx()
    parts.set_ylim(0, npart)
    parts.yaxis.set_major_locator(MultipleLocator(5))
    parts.yaxis.set_minor_locator(MultipleLocator(1))
    parts.tick_params(axis="y", which="both", direction="out", labelright=False, length=3)
    parts.tick_params(axis="y", which="minor", length=1.5)

    # Reduced chi^2 versus time (0.27-0.36 x 0.09-0.68; 0.27-0.39 without sub-bands).
    ax = pgsvp(fig, 0.27, 0.36 if nsub > 1 else 0.39, 0.09, 0.68)
    cmax = float(np.max(fold.timechi)) or 1.0
    ax.plot(fold.timechi, fold.parttimes, color="k")
    ax.set_xlim(1.1 * cmax, 0.0)
    ax.set_ylim(0.0, T)
    style(ax)
    ax.tick_params(labelleft=False, left=False, right=False)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.set_xlabel(chi_label, fontsize=LABEL, labelpad=2)
    frac = ax.twinx()
    frac.set_ylim(float(pfd.startT) - 0.0001, float(pfd.endT) + 0.0001)
    frac.tick_params(axis="y", labelsize=TICK, direction="in", length=3)
    frac.yaxis.set_minor_locator(AutoMinorLocator())
    frac.tick_params(axis="y", which="minor", direction="in", length=1.5)
    frac.set_ylabel("Fraction of Observation", fontsize=LABEL, labelpad=3)

    # Two pulses of the best profile (0.06-0.27 x 0.68-0.94).
    ax = pgsvp(fig, 0.06, 0.27, 0.68, 0.94)
    ax.set_xlim(0.0, 2.0)
    for s in ("top", "left", "right"):
        ax.spines[s].set_visible(False)
    ax.set_yticks([])
    ax.xaxis.set_major_locator(MultipleLocator(0.5))
    ax.xaxis.set_minor_locator(AutoMinorLocator(5))
    ax.tick_params(axis="x", direction="in", labelbottom=False, length=3)
    ax.tick_params(axis="x", which="minor", direction="in", length=1.5)
    ax.patch.set_alpha(0.0)
    ax = pgsvp(fig, 0.039, 0.27, 0.68, 0.94)
    ax.axis("off")
    prof2 = np.concatenate([fold.bestprof, fold.bestprof])
    lo, hi = float(prof2.min()), float(prof2.max())
    over = 0.1 * (hi - lo) or 1.0
    ax.set_xlim(-0.2, 2.0)
    ax.set_ylim(lo - 2.0 * over, hi + over)
    ax.plot(np.arange(2 * L) / float(L), prof2, color="k", lw=0.8)
    ax.plot([-0.2, 2.0], [fold.prof_avg] * 2, color="k", lw=0.6, ls=(0, (4, 3)))
    ax.errorbar([-0.1], [fold.prof_avg], yerr=[math.sqrt(fold.prof_var)], fmt="x", color="k", ms=4,
                capsize=2.5, lw=0.8, mew=0.8)
    if fold.ttot is not None:
        ax.errorbar([1.0], [lo - over], xerr=[0.5 * fold.ttot], fmt="none", ecolor="k", capsize=2.5, lw=0.8)
    fig.text(0.165, 0.945, "2 Pulses of Best Profile", ha="center", va="bottom", fontsize=LABEL + 1)

    if nsub > 1:
        # DM versus reduced chi^2 (0.44-0.66 x 0.09-0.22).
        ax = pgsvp(fig, 0.44, 0.66, 0.09, 0.22)
        ax.plot(fold.dms, fold.dmchi, color="k")
        ax.set_xlim(*widen(fold.dms[0], fold.dms[-1]))
        ax.set_ylim(0.0, 1.1 * (float(fold.dmchi.max()) or 1.0))
        style(ax)
        ax.xaxis.set_minor_locator(AutoMinorLocator())
        ax.yaxis.set_major_locator(MaxNLocator(4))
        ax.yaxis.set_minor_locator(AutoMinorLocator())
        ax.set_xlabel(r"DM (pc/cm$^3$)", fontsize=LABEL, labelpad=2)
        ax.set_ylabel(chi_label, fontsize=LABEL, labelpad=2)

        # Sub-bands versus phase (0.44-0.66 x 0.30-0.68).
        ax = pgsvp(fig, 0.44, 0.66, 0.30, 0.68)
        img = np.hstack([fold.subprofs, fold.subprofs])
        ax.imshow(img, cmap=GREY, aspect="auto", origin="lower", interpolation="nearest",
                  extent=[0.0, 2.0, 0.0, nsub], vmin=float(img.min()), vmax=float(img.max()) or 1.0)
        ax.set_xlim(-0.01, 2.01)
        ax.set_ylim(0, nsub)
        style(ax)
        ax.tick_params(direction="out", right=False)
        ax.tick_params(which="minor", direction="out", right=False)
        ax.xaxis.set_major_locator(MultipleLocator(0.4))
        ax.xaxis.set_minor_locator(AutoMinorLocator(2))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_minor_locator(AutoMinorLocator())
        ax.set_xlabel("Phase", fontsize=LABEL, labelpad=2)
        ax.set_ylabel("Sub-band", fontsize=LABEL, labelpad=2)
        freq = ax.twinx()
        freq.set_ylim(*fold.subfreq_range)
        freq.tick_params(axis="y", labelsize=TICK, direction="out", length=3)
        freq.yaxis.set_minor_locator(AutoMinorLocator())
        freq.tick_params(axis="y", which="minor", direction="out", length=1.5)
        freq.set_ylabel("Frequency (MHz)", fontsize=LABEL, labelpad=3)

    # Period / P-dot axes (offsets from the folding values), as prepfold labels them.
    pfold, pdfold = fold.pfold, fold.pdfold
    f0, fd0 = fold.fold[0], fold.fold[1]
    pout = "Period - %-.8f (ms)" % (pfold * 1000.0)
    fout = "Freq - %-.6f (Hz)" % f0
    if pdfold < 0.0:
        pdout = "P-dot + %-.5g (s/s)" % abs(pdfold)
    elif test_equal(pdfold, 0.0):
        pdout = "P-dot (s/s)"
    else:
        pdout = "P-dot - %-.5g (s/s)" % pdfold
    if fd0 < 0.0:
        fdout = "F-dot + %-.5g (Hz/s)" % abs(fd0)
    elif test_equal(fd0, 0.0):
        fdout = "F-dot (Hz/s)"
    else:
        fdout = "F-dot - %-.5g (Hz/s)" % fd0
    px = (fold.periods - pfold) * 1000.0
    pdy = fold.pdots - pdfold
    fx = 1.0 / fold.periods - f0
    fdy = np.array([switch_pfdot(pfold, pd) for pd in fold.pdots]) - fd0
    xord = np.argsort(px)
    yord = np.argsort(pdy)
    xlim = widen(px[xord[0]], px[xord[-1]])
    ylim = widen(pdy[yord[0]], pdy[yord[-1]])
    fxlim = widen(fx[xord[0]], fx[xord[-1]])
    fdylim = widen(fdy[yord[0]], fdy[yord[-1]])

    def chi_panel(rect, x, y, xl, xlabel, side="right"):
        ax = pgsvp(fig, *rect)
        o = np.argsort(x)
        ax.plot(x[o], y[o], color="k")
        ax.set_xlim(*xl)
        ax.set_ylim(0.0, 1.1 * (float(np.max(y)) or 1.0))
        style(ax, TICK)
        ax.tick_params(labelleft=side == "left", labelright=side == "right")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_minor_locator(AutoMinorLocator())
        ax.yaxis.set_major_locator(MaxNLocator(3, prune="lower" if side == "left" else None))
        ax.yaxis.set_minor_locator(AutoMinorLocator())
        ax.set_xlabel(scaled(ax.xaxis, xl, xlabel), fontsize=LABEL - 0.5, labelpad=2)
        ax.yaxis.set_label_position(side)
        ax.set_ylabel(chi_label, fontsize=LABEL - 0.5, labelpad=3)
        return ax

    cmap = LinearSegmentedColormap("antirainbow", {
        c: [(ANTIRAINBOW[0][i], ANTIRAINBOW[k][i], ANTIRAINBOW[k][i]) for i in range(len(ANTIRAINBOW[0]))]
        for k, c in ((1, "red"), (2, "green"), (3, "blue"))})
    best_x = (fold.bestp - pfold) * 1000.0
    best_y = fold.bestpd - pdfold

    if nsub > 1:
        chi_panel((0.74, 0.94, 0.41, 0.51), px, fold.periodchi, xlim, pout)
        chi_panel((0.74, 0.94, 0.58, 0.68), pdy, fold.pdotchi, ylim, pdout)
        pp_rect = (0.74, 0.94, 0.09, 0.29)
    else:
        # Labels left of the panel: the p-dot panel's title sits at its lower right.
        ax = chi_panel((0.51, 0.82, 0.49, 0.63), px, fold.periodchi, xlim, "", side="left")
        ax.tick_params(labelbottom=False)
        top = ax.twiny()
        top.set_xlim(*fxlim)
        top.tick_params(labelsize=TICK, direction="in", length=3)
        top.set_xlabel(scaled(top.xaxis, fxlim, fout), fontsize=LABEL - 0.5, labelpad=3)
        ax = pgsvp(fig, 0.82, 0.93, 0.09, 0.49)
        o = np.argsort(pdy)
        ax.plot(fold.pdotchi[o], pdy[o], color="k")
        ax.set_xlim(0.001, 1.1 * (float(np.max(fold.pdotchi)) or 1.0))
        ax.set_ylim(*ylim)
        style(ax, TICK)
        scaled(ax.yaxis, ylim, "")
        ax.tick_params(labelbottom=False, labeltop=True, labelleft=False)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.xaxis.set_label_position("top")
        ax.set_xlabel(chi_label, fontsize=LABEL - 0.5, labelpad=3)
        ax2 = ax.twinx()
        ax2.set_ylim(*fdylim)
        ax2.tick_params(labelsize=TICK, direction="in", length=3)
        ax2.set_ylabel(scaled(ax2.yaxis, fdylim, fdout), fontsize=LABEL - 0.5, labelpad=3)
        pp_rect = (0.51, 0.82, 0.09, 0.49)

    # The P-Pdot plane.
    ax = pgsvp(fig, *pp_rect)
    plane = fold.ppdot[np.ix_(yord, xord)]
    ax.imshow(plane, cmap=cmap, aspect="auto", origin="lower", interpolation="nearest",
              extent=[xlim[0], xlim[1], ylim[0], ylim[1]], vmin=float(plane.min()), vmax=float(plane.max()))
    ax.errorbar([best_x], [best_y], xerr=[fold.perr * 1000.0], yerr=[fold.pderr], fmt="x", color="k",
                ms=4, capsize=2, lw=0.8, mew=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    style(ax, TICK)
    ax.tick_params(top=False, right=False)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel(scaled(ax.xaxis, xlim, pout), fontsize=LABEL - 0.5, labelpad=2)
    ax.set_ylabel(scaled(ax.yaxis, ylim, pdout), fontsize=LABEL - 0.5, labelpad=2)
    if nsub > 1:
        top = ax.twiny()
        top.set_xlim(*fxlim)
        top.tick_params(labelsize=TICK, direction="in", length=3)
        top.xaxis.set_major_locator(MaxNLocator(5))
        top.set_xlabel(scaled(top.xaxis, fxlim, fout), fontsize=LABEL - 0.5, labelpad=3)
        rgt = ax.twinx()
        rgt.set_ylim(*fdylim)
        rgt.tick_params(labelsize=TICK, direction="in", length=3)
        rgt.yaxis.set_major_locator(MaxNLocator(5))
        rgt.set_ylabel(scaled(rgt.yaxis, fdylim, fdout), fontsize=LABEL - 0.5, labelpad=3)

    texts = draw_text(fig, fold)
    fig.savefig(out, dpi=dpi, facecolor="white")
    plt.close(fig)
    return texts


def draw_text(fig, fold):
    """The Data Info (0.27-0.519 x 0.68-0.94) and Search Information (0.519-0.94) areas, and the file name."""
    pfd = fold.pfd
    texts = []

    def put(ax, x, y, s, **kw):
        ax.text(x, y, s, fontsize=kw.pop("size", TEXT), va="baseline", ha=kw.pop("ha", "left"),
                transform=ax.transData, **kw)
        texts.append(s)

    ax = pgsvp(fig, 0.27, 0.519, 0.68, 0.94)
    ax.axis("off")
    ax.set_xlim(-0.1, 1.0)
    ax.set_ylim(-0.1, 1.1)
    left = fold.lines()
    for i, (label, value) in enumerate(left):
        y = 1.0 - 0.1 * i
        if i < 4:
            put(ax, 0.0, y, "%s  %s" % (label, esc(value)) if i < 2 else "%s = %s" % (label, esc(value)))
        else:
            put(ax, 0.0, y, label)
            put(ax, 0.45, y, "=  %s" % esc(value))

    ax = pgsvp(fig, 0.519, 0.94, 0.68, 0.94)
    ax.axis("off")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.1, 1.1)
    ax.text(0.5, 1.0, "Search Information", transform=ax.transAxes, ha="center", va="bottom", fontsize=TEXT + 1)
    texts.append("Search Information")
    put(ax, 0.0, 1.0, r"RA$_{\rm J2000}$ = %s" % esc(text_of(pfd.rastr)))
    put(ax, 0.6, 1.0, r"DEC$_{\rm J2000}$ = %s" % esc(text_of(pfd.decstr)))
    put(ax, 0.12, 0.9, "Best Fit Parameters")
    sig = r"(%.1f$\sigma$)" % fold.sigma
    if fold.prob == 0.0:
        put(ax, 0.0, 0.8, r"DOF$_{\rm eff}$ = %.2f   $\chi^2_{\rm red}$ = %.3f   P(Noise) ~ 0   %s"
            % (fold.dofeff, fold.redchi, sig))
    else:
        put(ax, 0.0, 0.8, r"DOF$_{\rm eff}$ = %.2f   $\chi^2_{\rm red}$ = %.3f   P(Noise) < %.3g   %s"
            % (fold.dofeff, fold.redchi, fold.prob, sig))
    if fold.nsub > 1:
        put(ax, 0.0, 0.7, r"Dispersion Measure (DM; pc/cm$^3$) = %.3f" % fold.bestdm)
    else:
        put(ax, 0.0, 0.7, "Dispersion Measure (DM) = N/A")

    def nice(v, e):
        s = nice_output_2(v, e)
        if "x10^" in s:
            m, x = s.split("x10^")
            s = r"%s$\times$10$^{%s}$" % (m, x)
        return s

    for col, (epoch, (p1, p2, p3), sub) in enumerate(((fold.tepoch, fold.topo, "topo"), (fold.bepoch, fold.bary, "bary"))):
        x = 0.6 * col
        if epoch != 0.0:
            put(ax, x, 0.6, r"P$_{\rm %s}$ (ms) = %s" % (sub, nice(p1 * 1000.0, fold.perr * 1000.0)))
            put(ax, x, 0.5, r"P'$_{\rm %s}$ (s/s) = %s" % (sub, nice(p2, fold.pderr)))
            put(ax, x, 0.4, r"P''$_{\rm %s}$ (s/s$^2$) = %s" % (sub, nice(p3, fold.pdderr)))
        else:
            put(ax, x, 0.6, r"P$_{\rm %s}$ (ms) = N/A" % sub)
            put(ax, x, 0.5, r"P'$_{\rm %s}$ (s/s) = N/A" % sub)
            put(ax, x, 0.4, r"P''$_{\rm %s}$ (s/s$^2$) = N/A" % sub)
    put(ax, 0.12, 0.3, "Binary Parameters")
    orb_p = float(pfd.orb_p)
    if test_equal(orb_p, 0.0):
        put(ax, 0.0, 0.2, r"P$_{\rm orb}$ (s) = N/A")
        put(ax, 0.0, 0.1, r"a$_1$sin(i)/c (s) = N/A")
        put(ax, 0.6, 0.2, "e = N/A")
        put(ax, 0.6, 0.1, r"$\omega$ (rad) = N/A")
        put(ax, 0.0, 0.0, r"T$_{\rm peri}$ = N/A")
    else:
        put(ax, 0.0, 0.2, r"P$_{\rm orb}$ (s) = %f" % orb_p)
        put(ax, 0.0, 0.1, r"a$_1$sin(i)/c (s) = %f" % float(pfd.orb_x))
        put(ax, 0.6, 0.2, "e = %f" % float(pfd.orb_e))
        put(ax, 0.6, 0.1, r"$\omega$ (deg) = %f" % float(pfd.orb_w))
        put(ax, 0.0, 0.0, r"T$_{\rm peri}$ = %-.11f" % float(pfd.orb_t))

    name = esc(text_of(pfd.filenm))
    fig.text(0.06, 0.015, name, fontsize=TEXT - 0.5, ha="left", va="bottom")
    texts.append(name)
    fig.text(0.94, 0.015, "prepfold's plot, redrawn from the .pfd (PRESTO's prepfold.py, matplotlib)", fontsize=TICK - 1,
             ha="right", va="bottom", color="0.45")
    return texts


def plain(s):
    """A mathtext line as plain text (for the JSON sidecar)."""
    for a, b in ((r"$\times$", "x"), (r"$\chi^2_{\rm red}$", "chi^2_red"), (r"$\sigma$", " sigma"), (r"$\omega$", "omega"),
                 (r"\$", "$")):
        s = s.replace(a, b)
    out, i = [], 0
    while i < len(s):
        if s[i] == "$":
            j = s.index("$", i + 1) if "$" in s[i + 1:] else len(s)
            seg = s[i + 1:j].replace(r"\rm ", "").replace("{", "").replace("}", "")
            out.append(seg)
            i = j + 1
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Draw prepfold's candidate plot from a .pfd (PNG, matplotlib).")
    ap.add_argument("pfd", help="the .pfd file prepfold wrote")
    ap.add_argument("-o", "--out", help="the PNG to write (default: <pfd>.png)")
    ap.add_argument("--json", help="also write the plotted values and text lines to this file")
    ap.add_argument("--dpi", type=float, default=100.0, help="resolution; the page is 11 x 8.5 in (default 100)")
    args = ap.parse_args(argv)
    out = args.out or args.pfd + ".png"
    try:
        from presto import prepfold
    except ImportError as e:
        sys.stderr.write("pfd_plot.py: cannot import PRESTO's python package (%s); is PYTHONPATH set for PRESTO?\n" % e)
        return 2
    try:
        pfd = prepfold.pfd(args.pfd)
    except (IOError, OSError) as e:
        sys.stderr.write("pfd_plot.py: cannot read %s: %s\n" % (args.pfd, e))
        return 1
    fold = Fold(pfd)
    texts = draw(fold, out, args.dpi)
    values = fold.values()
    values["png"] = out
    values["size_px"] = [int(round(FIG_W * args.dpi)), int(round(FIG_H * args.dpi))]
    values["text"] = [plain(t) for t in texts]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(values, f, indent=1, sort_keys=True)
            f.write("\n")
    sys.stdout.write("pfd_plot.py: wrote %s: DM %s, P_topo %.10g ms, P_bary %.10g ms, reduced chi^2 %.3f (%.1f sigma)\n" % (
        out, "%.3f" % fold.bestdm if fold.nsub > 1 else "N/A", fold.topo[0] * 1000.0, fold.bary[0] * 1000.0,
        fold.redchi, fold.sigma))
    return 0


if __name__ == "__main__":
    sys.exit(main())
