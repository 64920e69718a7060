"use strict";
// Flag tables of the real programs (type, flag, variable, description, range/default/
// mandatory/count), transcribed from their clig specs. Sources (scottransom/presto):
//  - accelsearch, zapbirds: clig/*_cmd.cli and src/*_cmd.c at 3ae6229 (the commit that
//    built the fixtures; its CHANGELOG calls it "Development (unreleased, since v6.0.1)").
//  - rfifind, prepsubband: clig/*_cmd.cli at c4c58c1b; prepdata: b98a1800; prepfold:
//    262c60a4 (+ -normalize, present in v6's prepfold_multi_cmd.cli, which mirrors
//    prepfold's option struct); readfile: 95cc5d81; rednoise: c7d428d8; realfft:
//    343b71c6. The pyCLIG-regenerated (v6) versions of these .cli files are not in
//    the searchable index; the CHANGELOG (v6.0.0 .. 3ae6229) lists no option changes to
//    them except realfft's new -rednoise/-startwidth/-endwidth/-endfreq and rednoise's
//    new -inplace, added below with descriptions of our own wording.
//  - combine_mocks: psrfits_utils combine_mocks_cmd.cli / combine_mocks_cmd.c (old clig).

const RAW_DESC =
  "Input data file name.  If the data is not in a known raw format, it should be a single channel of single-precision floating point data.  In this case a '.inf' file with the same root filename must also exist (Note that this means that the input data file must have a suffix that starts with a period)";
const CLIP = ["Float", "-clip", "clip", "Time-domain sigma to use for clipping (0.0 = no clipping, 6.0 = default", { r: ["0", "1000.0"], d: "6.0" }];
const NCPUS = ["Int", "-ncpus", "ncpus", "Number of processors to use with OpenMP", { r: ["1", "oo"], d: "1" }];
const OUT_M = ["String", "-o", "outfile", "Root of the output file names", { m: true }];
const F = (flag, v, desc) => ["Flag", flag, v, desc];
const PSRFITS_FLAGS = [
  F("-filterbank", "filterbank", "Raw data in SIGPROC filterbank format"),
  F("-psrfits", "psrfits", "Raw data in PSRFITS format"),
  F("-noweights", "noweights", "Do not apply PSRFITS weights"),
  F("-noscales", "noscales", "Do not apply PSRFITS scales"),
  F("-nooffsets", "nooffsets", "Do not apply PSRFITS offsets"),
];
const WAPP = F("-wapp", "wapp", "Raw data in Wideband Arecibo Pulsar Processor (WAPP) format");
const WINDOW = F("-window", "window", "Window correlator lags with a Hamming window before FFTing");
const NUMWAPPS = ["Int", "-numwapps", "numwapps", "Number of WAPPs used with contiguous frequencies", { r: ["1", "8"], d: "1" }];
const IFS = ["Int", "-if", "ifs", "A specific IF to use if available (summed IFs is the default)", { r: ["0", "1"] }];
const NOCLIP = F("-noclip", "noclip", "Do not clip the data.  (The default is to _always_ clip!)");
const INVERT = F("-invert", "invert", "For rawdata, flip (or invert) the band");
const ZERODM = F("-zerodm", "zerodm", "Subtract the mean of all channels from each sample (i.e. remove zero DM)");
const MASK = ["String", "-mask", "maskfile", "File containing masking information to use"];
const IGNORECHAN = [
  "String",
  "-ignorechan",
  "ignorechanstr",
  "Comma separated string (no spaces!) of channels to ignore (or file containing such string).  Ranges are specified by min:max[:step]",
];
const NUMOUT = [
  "Long",
  "-numout",
  "numout",
  "Output this many values.  If there are not enough values in the original data file, will pad the output file with the average value",
  { r: ["1", "oo"] },
];
const OFFSET = ["Long", "-offset", "offset", "Number of spectra to offset into as starting data point", { r: ["0", "oo"], d: "0" }];
const START = ["Double", "-start", "start", "Starting point of the processing as a fraction of the full obs", { r: ["0.0", "1.0"], d: "0.0" }];

const accelsearch = {
  name: "accelsearch",
  usage: "Search an FFT or short time series for pulsars using a Fourier domain acceleration search with harmonic summing.",
  options: [
    NCPUS,
    ["Int", "-lobin", "lobin", "The first Fourier frequency in the data file", { r: ["0", "oo"], d: "0" }],
    ["Int", "-numharm", "numharm", "The number of harmonics to sum (power-of-two)", { r: ["1", "32"], d: "8" }],
    ["Int", "-zmax", "zmax", "The max (+ and -) Fourier freq deriv to search", { r: ["0", "1200"], d: "200" }],
    ["Int", "-wmax", "wmax", "The max (+ and -) Fourier freq double derivs to search", { r: ["0", "4000"] }],
    ["Float", "-sigma", "sigma", "Cutoff sigma for choosing candidates", { r: ["1.0", "30.0"], d: "2.0" }],
    ["Double", "-rlo", "rlo", "The lowest Fourier frequency (of the highest harmonic!) to search", { r: ["0.0", "oo"] }],
    ["Double", "-rhi", "rhi", "The highest Fourier frequency (of the highest harmonic!) to search", { r: ["0.0", "oo"] }],
    ["Double", "-flo", "flo", "The lowest frequency (Hz) (of the highest harmonic!) to search", { r: ["0.0", "oo"], d: "1.0" }],
    ["Double", "-fhi", "fhi", "The highest frequency (Hz) (of the highest harmonic!) to search", { r: ["0.0", "oo"], d: "10000.0" }],
    F("-inmem", "inmem", "Compute full f-fdot plane in memory.  Very fast, but only for short time series."),
    F("-photon", "photon", "Data is poissonian so use freq 0 as power normalization"),
    F("-median", "median", "Use block-median power normalization (default)"),
    F("-locpow", "locpow", "Use double-tophat local-power normalization (not usually recommended)"),
    ["String", "-zaplist", "zaplist", "A file of freqs+widths to zap from the FFT (only if the input file is a *.[s]dat file)"],
    ["Double", "-baryv", "baryv", "The radial velocity component (v/c) towards the target during the obs", { r: ["-0.1", "0.1"], d: "0.0" }],
    F("-otheropt", "otheropt", "Use the alternative optimization (for testing/debugging)"),
    F("-noharmpolish", "noharmpolish", "Do not use 'harmpolish' by default"),
    F("-noharmremove", "noharmremove", "Do not remove harmonically related candidates (never removed for numharm = 1)"),
  ],
  rest: {
    name: "infile",
    desc: "Input file name(s) of the floating point .fft or .[s]dat file(s).  '.inf' file(s) of the same name must also exist",
    min: 1,
    max: 16384,
  },
};

const zapbirds = {
  name: "zapbirds",
  usage: "Allows you to interactively or automatically zap interference from an FFT.",
  options: [
    F("-zap", "zap", "Zap the birds in the FFT from 'zapfile' (write to the FFT file)"),
    ["String", "-zapfile", "zapfile", "A file of freqs and widths to zap from the FFT (when using '-zap')"],
    ["String", "-in", "inzapfile", "A file containing a list of freqs (Hz) and the # of harmonics to zap"],
    ["String", "-out", "outzapfile", "A file to write that will contain the freqs and widths (Hz) zapped"],
    ["Double", "-baryv", "baryv", "The radial velocity component (v/c) towards the target during the obs", { r: ["-0.1", "0.1"], d: "0.0" }],
    F("-constamp", "constamp", "Replace zapped bins with a constant amplitude, as PRESTO 6.0.1 and earlier did, instead of with noise"),
  ],
  rest: { name: "infile", desc: "Input file name (no suffix) of floating point fft data.  A '.inf' file of the same name must also exist", min: 1, max: 16384 },
};

const rfifind = {
  name: "rfifind",
  usage: "Examines radio data for narrow and wide band interference as well as problems with channels",
  options: [
    NCPUS,
    OUT_M,
    ...PSRFITS_FLAGS,
    WAPP,
    WINDOW,
    NUMWAPPS,
    IFS,
    CLIP,
    NOCLIP,
    INVERT,
    ZERODM,
    F("-xwin", "xwin", "Draw plots to the screen as well as a PS file"),
    F("-nocompute", "nocompute", "Just plot and remake the mask"),
    F("-rfixwin", "rfixwin", "Show the RFI instances on screen"),
    F("-rfips", "rfips", "Plot the RFI instances in a PS file"),
    ["Double", "-time", "time", "Seconds to integrate for stats and FFT calcs (use this or -blocks)", { r: ["0", "oo"], d: "30.0" }],
    ["Int", "-blocks", "blocks", "Number of blocks (usually 16-1024 samples) to integrate for stats and FFT calcs", { r: ["1", "oo"] }],
    ["Float", "-timesig", "timesigma", "The +/-sigma cutoff to reject time-domain chunks", { r: ["0", "oo"], d: "10" }],
    ["Float", "-freqsig", "freqsigma", "The +/-sigma cutoff to reject freq-domain chunks", { r: ["0", "oo"], d: "4" }],
    ["Float", "-chanfrac", "chantrigfrac", "The fraction of bad channels that will mask a full interval", { r: ["0.0", "1.0"], d: "0.7" }],
    ["Float", "-intfrac", "inttrigfrac", "The fraction of bad intervals that will mask a full channel", { r: ["0.0", "1.0"], d: "0.3" }],
    ["String", "-zapchan", "zapchanstr", "Comma separated string (no spaces!) of channels to explicitly mask.  Ranges are specified by min:max[:step]"],
    ["String", "-zapints", "zapintsstr", "Comma separated string (no spaces!) of intervals to explicitly mask.  Ranges are specified by min:max[:step]"],
    MASK,
    IGNORECHAN,
  ],
  rest: { name: "infile", desc: "Input data file name(s).", min: 1, max: 16384 },
};

const prepsubband = {
  name: "prepsubband",
  usage: "Converts a raw radio data file into many de-dispersed time-series (including barycentering).",
  options: [
    NCPUS,
    OUT_M,
    ...PSRFITS_FLAGS,
    WAPP,
    WINDOW,
    NUMWAPPS,
    IFS,
    CLIP,
    NOCLIP,
    INVERT,
    ZERODM,
    F("-runavg", "runavg", "Running mean subtraction from the input data"),
    F("-sub", "sub", "Write subbands instead of de-dispersed data"),
    ["Double", "-subdm", "subdm", "The DM to use when de-dispersing subbands for -sub", { r: ["0", "4000.0"], d: "0.0" }],
    NUMOUT,
    F("-nobary", "nobary", "Do not barycenter the data"),
    OFFSET,
    START,
    ["Double", "-lodm", "lodm", "The lowest dispersion measure to de-disperse (cm^-3 pc)", { r: ["0", "oo"], d: "0" }],
    ["Double", "-dmstep", "dmstep", "The stepsize in dispersion measure to use(cm^-3 pc)", { r: ["0", "oo"], d: "1.0" }],
    ["Int", "-numdms", "numdms", "The number of DMs to de-disperse", { r: ["1", "10000"], d: "10" }],
    ["Int", "-nsub", "nsub", "The number of sub-bands to use", { r: ["1", "4096"], d: "32" }],
    ["Int", "-downsamp", "downsamp", "The number of neighboring bins to co-add", { r: ["1", "128"], d: "1" }],
    ["Int", "-dmprec", "dmprec", "The number of decimals in the precision of the DM in the filename.", { r: ["2", "4"], d: "2" }],
    MASK,
    IGNORECHAN,
  ],
  rest: { name: "infile", desc: RAW_DESC, min: 1, max: 16384 },
};

const prepdata = {
  name: "prepdata",
  usage: "Prepares a raw data file for pulsar searching or folding (conversion, de-dispersion, and barycentering).",
  options: [
    NCPUS,
    OUT_M,
    ...PSRFITS_FLAGS,
    WINDOW,
    IFS,
    CLIP,
    NOCLIP,
    INVERT,
    ZERODM,
    F("-nobary", "nobary", "Do not barycenter the data"),
    F("-shorts", "shorts", "Use short ints for the output data instead of floats"),
    NUMOUT,
    ["Int", "-downsamp", "downsamp", "The number of neighboring bins to co-add", { r: ["1", "128"], d: "1" }],
    OFFSET,
    START,
    ["Double", "-dm", "dm", "The dispersion measure to de-disperse (cm^-3 pc)", { r: ["0", "oo"], d: "0" }],
    MASK,
    IGNORECHAN,
  ],
  rest: { name: "infile", desc: RAW_DESC, min: 1, max: 16384 },
};

const D = (flag, v, desc, r, d) => ["Double", flag, v, desc, d === undefined ? { r } : { r, d }];
const I = (flag, v, desc, r, d) => ["Int", flag, v, desc, r ? (d === undefined ? { r } : { r, d }) : undefined];
const prepfold = {
  name: "prepfold",
  usage: "Prepares (if required) and folds raw radio data, standard time series, or events.",
  options: [
    NCPUS,
    ["String", "-o", "outfile", "Root of the output file names"],
    ...PSRFITS_FLAGS,
    WAPP,
    WINDOW,
    F("-topo", "topo", "Fold the data topocentrically (i.e. don't barycenter)"),
    INVERT,
    ZERODM,
    F("-absphase", "absphase", "Use the absolute phase associated with polycos"),
    F("-barypolycos", "barypolycos", "Force the use of polycos for barycentered events"),
    F("-debug", "debug", "Show debugging output when calling TEMPO for polycos"),
    F("-samples", "samples", "Treat the data as samples and not as finite-duration integrated data"),
    F("-normalize", "normalize", "Bandpass flatten the data by normalizing the subbands"),
    NUMWAPPS,
    IFS,
    CLIP,
    NOCLIP,
    F("-noxwin", "noxwin", "Do not show the result plots on-screen, only make postscript files"),
    F("-runavg", "runavg", "Subtract each blocks average as it is read (single channel data only)"),
    F("-fine", "fine", "A finer gridding in the p/pdot plane (for well known p and pdot)"),
    F("-coarse", "coarse", "A coarser gridding in the p/pdot plane (for uknown p and pdot)"),
    F("-slow", "slow", "Sets useful flags for slow pulsars"),
    F("-searchpdd", "searchpdd", "Search p-dotdots as well as p and p-dots"),
    F("-searchfdd", "searchfdd", "Search f-dotdots as well as f and f-dots"),
    F("-nosearch", "nosearch", "Show but do not search the p/pdot and/or DM phase spaces"),
    F("-nopsearch", "nopsearch", "Show but do not search over period"),
    F("-nopdsearch", "nopdsearch", "Show but do not search over p-dot"),
    F("-nodmsearch", "nodmsearch", "Show but do not search over DM"),
    F("-scaleparts", "scaleparts", "Scale the part profiles independently"),
    F("-allgrey", "allgrey", "Make all the images greyscale instead of color"),
    F("-fixchi", "fixchi", "Adjust the reduced chi^2 values so that off-pulse reduced chi^2 = 1"),
    F("-justprofs", "justprofs", "Only output the profile portions of the plot"),
    D("-dm", "dm", "The central DM of the search (cm^-3 pc)", ["0", "oo"], "0"),
    I("-n", "proflen", "The number of bins in the profile.  Defaults to the number of sampling bins which correspond to one folded period"),
    I("-nsub", "nsub", "The number of sub-bands to use for the DM search.  If unspecified, will use something reasonable.", ["1", "4096"]),
    I("-npart", "npart", "The number of sub-integrations to use for the period search", ["1", "4096"], "64"),
    I("-pstep", "pstep", "The minimum period stepsize over the observation in profile bins", ["1", "10"], "2"),
    I("-pdstep", "pdstep", "The minimum P-dot stepsize over the observation in profile bins", ["1", "20"], "4"),
    I("-dmstep", "dmstep", "The minimum DM stepsize over the observation in profile bins", ["1", "10"], "2"),
    I("-npfact", "npfact", "2 * npfact * proflen + 1 periods and p-dots will be searched", ["1", "10"], "2"),
    I("-ndmfact", "ndmfact", "2 * ndmfact * proflen + 1 DMs will be searched", ["1", "1000"], "3"),
    D("-p", "p", "The nominative folding period (s)", ["0", "oo"]),
    D("-pd", "pd", "The nominative period derivative (s/s)", ["-oo", "oo"], "0.0"),
    D("-pdd", "pdd", "The nominative period 2nd derivative (s/s^2)", ["-oo", "oo"], "0.0"),
    D("-f", "f", "The nominative folding frequency (hz)", ["0", "oo"]),
    D("-fd", "fd", "The nominative frequency derivative (hz/s)", ["-oo", "oo"], "0"),
    D("-fdd", "fdd", "The nominative frequency 2nd derivative (hz/s^2)", ["-oo", "oo"], "0"),
    D("-pfact", "pfact", "A factor to multiple the candidate p and p-dot by", ["0.0", "100.0"], "1.0"),
    D("-ffact", "ffact", "A factor to multiple the candidate f and f-dot by", ["0.0", "100.0"], "1.0"),
    D("-phs", "phs", "Offset phase for the profil", ["0.0", "1.0"], "0.0"),
    D("-start", "startT", "The folding start time as a fraction of the full obs", ["0.0", "1.0"], "0.0"),
    D("-end", "endT", "The folding end time as a fraction of the full obs", ["0.0", "1.0"], "1.0"),
    ["String", "-psr", "psrname", "Name of pulsar to fold (do not include J or B)"],
    ["String", "-par", "parname", "Name of a TEMPO par file from which to get PSR params"],
    ["String", "-polycos", "polycofile", "File containing TEMPO polycos for psrname (not required)"],
    [
      "String",
      "-timing",
      "timing",
      "Sets useful flags for TOA generation. Generates polycos (if required) based on the par file specified as the argument. (This means you don't need the -par or -psr commands!)",
    ],
    I("-rzwcand", "rzwcand", "The candidate number to fold from 'infile'_rzw.cand", ["1", "oo"]),
    ["String", "-rzwfile", "rzwfile", "Name of the rzw search '.cand' file to use (with suffix)"],
    I("-accelcand", "accelcand", "The candidate number to fold from 'infile'_rzw.cand", ["1", "oo"]),
    ["String", "-accelfile", "accelfile", "Name of the accel search '.cand' file to use (with suffix)"],
    F("-bin", "binary", "Fold a binary pulsar.  Must include all of the following parameters"),
    D("-pb", "pb", "The orbital period (s)", ["0", "oo"]),
    D("-x", "asinic", "The projected orbital semi-major axis (lt-sec)", ["0", "oo"]),
    D("-e", "e", "The orbital eccentricity", ["0", "0.9999999"], "0"),
    D("-To", "To", "The time of periastron passage (MJD)", ["0", "oo"]),
    D("-w", "w", "Longitude of periastron (deg)", ["0", "360"]),
    D("-wdot", "wdot", "Rate of advance of periastron (deg/yr)", ["-oo", "oo"], "0"),
    MASK,
    IGNORECHAN,
    F("-events", "events", "Use a event file instead of a time series (.dat) file"),
    F("-days", "days", "Events are in days since the EPOCH in the '.inf' file (default is seconds)"),
    F("-mjds", "mjds", "Events are in MJDs"),
    F("-double", "double", "Events are in binary double precision (default is ASCII)"),
    D("-offset", "offset", "A time offset to add to the 1st event in the same units as the events", ["-oo", "oo"], "0"),
  ],
  rest: {
    name: "infile",
    desc: "Input data file name.  If the data is not in a regognized raw data format, it should be a file containing a time series of single-precision floats or short ints.  In this case a '.inf' file with the same root filename must also exist (Note that this means that the input data file must have a suffix that starts with a period)",
    min: 1,
    max: 16384,
  },
};

const REDNOISE_OPTS = [
  ["Int", "-startwidth", "startwidth", "The initial windowing size.", { r: ["2", "50"], d: "6" }],
  ["Int", "-endwidth", "endwidth", "The final windowing size.", { r: ["50", "500"], d: "100" }],
  ["Double", "-endfreq", "endfreq", "The highest frequency where the windowing increases.", { r: ["0.1", "10"], d: "6" }],
];

const realfft = {
  name: "realfft",
  newlineFirst: false, // realfft's main() calls usage() without printing "\n" first
  usage: "Perform a single-precision FFT of real data or its inverse",
  options: [
    F("-fwd", "forward", "Force an forward FFT (sign=-1) to be performed"),
    F("-inv", "inverse", "Force an inverse FFT (sign=+1) to be performed"),
    F("-del", "delete", "Delete the original file(s) when performing the FFT"),
    F("-disk", "diskfft", "Force the use of the out-of-core memory FFT"),
    F("-mem", "memfft", "Force the use of the in-core memory FFT"),
    ["String", "-tmpdir", "tmpdir", "Scratch directory for temp file(s) in out-of-core FFT"],
    ["String", "-outdir", "outdir", "Directory where result file(s) will reside"],
    // added after v6.0.1 (CHANGELOG at 3ae6229); descriptions are ours
    F("-rednoise", "rednoise", "Remove red noise while transforming (writes '<root>_red.fft' and '<root>_red.inf')"),
    ...REDNOISE_OPTS,
  ],
  rest: { name: "infiles", desc: "Input data file(s)", min: 1, max: 16384 },
};

const rednoise = {
  name: "rednoise",
  usage: "Rednoise extraction routine.",
  options: [
    ...REDNOISE_OPTS,
    // added after v6.0.1 (CHANGELOG at 3ae6229); description is ours
    F("-inplace", "inplace", "Whiten the input '.fft' in place, then rename it to '<root>_red.fft'"),
  ],
  rest: { name: "file", desc: "Input '.fft' file.", min: 1, max: 1 },
};

const readfile = {
  name: "readfile",
  usage: "Reads raw data from a binary file and displays it on stdout.",
  options: [
    F("-page", "page", "Paginate the output like 'more'"),
    F("-byte", "byt", "Raw data in byte format"),
    F("-b", "sbyt", "Raw data in byte format"),
    F("-float", "flt", "Raw data in floating point format"),
    F("-f", "sflt", "Raw data in floating point format"),
    F("-double", "dbl", "Raw data in double precision format"),
    F("-d", "sdbl", "Raw data in double precision format"),
    F("-fcomplex", "fcx", "Raw data in float-complex format"),
    F("-fc", "sfcx", "Raw data in float-complex format"),
    F("-dcomplex", "dcx", "Raw data in double-complex format"),
    F("-dc", "sdcx", "Raw data in double-complex format"),
    F("-short", "sht", "Raw data in short format"),
    F("-s", "ssht", "Raw data in short format"),
    F("-int", "igr", "Raw data in integer format"),
    F("-i", "sigr", "Raw data in integer format"),
    F("-long", "lng", "Raw data in long format"),
    F("-l", "slng", "Raw data in long format"),
    F("-rzwcand", "rzw", "Raw data in rzw search candidate format"),
    F("-rzw", "srzw", "Raw data in rzw search candidate format"),
    F("-bincand", "bin", "Raw data in bin search candidate format"),
    F("-bin", "sbin", "Raw data in bin search candidate format"),
    F("-position", "pos", "Raw data in position struct format"),
    F("-pos", "spos", "Raw data in position struct format"),
    F("-pkmb", "pkmb", "Raw data in Parkes Multibeam format"),
    F("-bcpm", "bcpm", "Raw data in BCPM format"),
    F("-wapp", "wapp", "Raw data in WAPP format"),
    F("-spigot", "spigot", "Raw data in Spigot Card format"),
    F("-filterbank", "filterbank", "Raw data in SIGPROC filterbank format"),
    F("-psrfits", "psrfits", "Raw data in PSRFITS format"),
    F("-fortran", "fortran", "Raw data was written by a fortran program"),
    ["Int", "-index", "index", "The range of objects to display", { r: ["-1", "oo"], d: "0 -1", c: [0, 2] }],
    ["Double", "-nph", "nph", "0th FFT bin amplitude (for 'RZW' data)", { r: ["-oo", "oo"], d: "1.0" }],
  ],
  rest: { name: "file", desc: "Input data file name.", min: 1, max: 1 },
};

const combine_mocks = {
  name: "combine_mocks",
  newlineFirst: false,
  usage: "\nCombine two frequency bands of Mock spectrometer data.\n",
  footer: "  version: 14Feb11",
  options: [["String", "-o", "outputbasename", "Basename for the output files"]],
  rest: { name: "infile", desc: "Input file name(s) of the PSRFITs datafiles", min: 1, max: 2000 },
};

module.exports = { accelsearch, zapbirds, rfifind, prepsubband, prepdata, prepfold, realfft, rednoise, readfile, combine_mocks };
