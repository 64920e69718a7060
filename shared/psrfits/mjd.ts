/**
 * The observation's start MJD from STT_IMJD / STT_SMJD / STT_OFFS, exactly.
 *
 * Public API:
 *   startMjdString(imjd, smjd, offsText, decimals = 20): string
 *   startMjdNumber(imjd, smjd, offs): number
 *
 * PSRFITS splits the start time so that no precision is lost: a double holds an
 * MJD near 60000 only to ~1e-11 day (~1 us), while PRESTO carries it as a long
 * double and TEMPO-style tools want more. So the string is computed in exact
 * decimal arithmetic from the card texts (SMJD integer seconds, OFFS as written),
 * rounded half-to-even at `decimals`; readfile prints the same value to 14
 * decimals ("MJD start time (STT_*)").
 */

const SECONDS_PER_DAY = 86400n;

/** A decimal number's text as digits / 10^scale (handles "0.", "1.5E-05", "-2"). */
function decimalOf(text: string): { digits: bigint; scale: number } {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[EeDd]([+-]?\d+))?$/.exec(text.trim());
  if (m === null || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`not a decimal number: ${text}`);
  const intPart = m[2] === "" ? "0" : m[2];
  const fracPart = m[3] ?? "";
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  let digits = BigInt(intPart + fracPart);
  let scale = fracPart.length - exp;
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: m[1] === "-" ? -digits : digits, scale };
}

export function startMjdString(imjd: number, smjd: number, offsText: string, decimals = 20): string {
  const offs = decimalOf(offsText);
  const pow = 10n ** BigInt(offs.scale);
  // Seconds past IMJD as numerator / pow.
  const secondsNum = BigInt(smjd) * pow + offs.digits;
  if (secondsNum < 0n) throw new Error(`negative start offset (SMJD ${smjd}, OFFS ${offsText})`);
  // fraction of a day, scaled by 10^decimals: secondsNum * 10^decimals / (86400 * pow)
  const num = secondsNum * 10n ** BigInt(decimals);
  const den = SECONDS_PER_DAY * pow;
  let q = num / den;
  const twice = (num % den) * 2n;
  if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
  const unit = 10n ** BigInt(decimals);
  const days = BigInt(imjd) + q / unit;
  const frac = (q % unit).toString().padStart(decimals, "0");
  return decimals === 0 ? days.toString() : `${days}.${frac}`;
}

export function startMjdNumber(imjd: number, smjd: number, offs: number): number {
  return imjd + (smjd + offs) / 86400;
}
