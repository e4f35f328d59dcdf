import { ConfigError } from '../../errors.js';
import { full, tensor } from '../../tensor/create.js';
import { noGrad } from '../../tensor/tensor.js';
import { checkActivation } from '../../ops/activations.js';
import type { ActivationName } from '../../ops/activations.js';
import { applyActivation } from '../../nn/activation.js';
import { activationDerivative } from '../trace.js';
import { PALETTE, esc, frame, legend, linePath, svgRoot } from './svg.js';
import type { PlotOptions } from './svg.js';

/** Options of {@link plotActivationFunctions}. */
export interface ActivationPlotOptions extends PlotOptions {
  /** Range of z (default [−6, 6]). */
  z?: [number, number];
  /** Slope of the leaky ReLU drawn (default 0.1, so it is visible; layers default to 0.01). */
  alpha?: number;
  /** PReLU slope λ drawn (default 0.25). */
  lambda?: number;
  /** Panels per row (default 3). */
  perRow?: number;
}

const TITLES: Partial<Record<ActivationName, string>> = {
  threshold: 'threshold (θ = 0)', logistic: 'logistic', sigmoid: 'logistic', tanh: 'tanh', relu: 'rectifier (ReLU)',
  leakyRelu: 'leaky ReLU', prelu: 'PReLU', linear: 'linear', gelu: 'GELU (x·Φ(x))',
};

/**
 * The activation functions φ(z) (solid) and their derivatives ∂a/∂z (dashed), one panel each —
 * the lecture's Figures 2 and 13. Softmax is not elementwise and is refused.
 * Elements: `svg.dd-activations`, one `g.dd-activation-panel` per function, `path.dd-phi` and
 * `path.dd-dphi`.
 *
 * @example
 * ```ts
 * plotActivationFunctions(['threshold', 'logistic', 'tanh', 'relu']);
 * ```
 */
export function plotActivationFunctions(names: readonly ActivationName[] = ['threshold', 'logistic', 'tanh', 'relu', 'leakyRelu', 'linear'], opts: ActivationPlotOptions = {}): string {
  const list = names.map((n) => checkActivation(n, 'plotActivationFunctions'));
  const bad = list.find((n) => n === 'softmax');
  if (bad) throw new ConfigError('plotActivationFunctions: softmax is not an elementwise function of z and has no curve to draw');
  const [z0, z1] = opts.z ?? [-6, 6];
  if (!(z1 > z0)) throw new ConfigError(`plotActivationFunctions: z range must be increasing, received [${z0}, ${z1}]`);
  const alpha = opts.alpha ?? 0.1;
  const lambda = opts.lambda ?? 0.25;
  const per = Math.max(1, Math.min(opts.perRow ?? 3, list.length));
  const pw = 210;
  const ph = 170;
  const top = opts.title ? 46 : 26;
  const width = opts.width ?? per * pw + 10;
  const height = opts.height ?? top + Math.ceil(list.length / per) * ph;
  const zs = Array.from({ length: 241 }, (_, i) => z0 + ((z1 - z0) * i) / 240);
  const zt = tensor(zs);
  const panels = list.map((name, k) => {
    const a = noGrad(() => applyActivation(name, zt, { alpha, theta: 0 }, name === 'prelu' ? full([zs.length], lambda) : undefined)).data;
    const d = activationDerivative(name, zt.data, a, alpha, [lambda]);
    const ys = [...a, ...(d ?? [])];
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    const pad = (hi - lo) * 0.08 || 0.5;
    const ox = (k % per) * pw;
    const oy = top + Math.floor(k / per) * ph;
    const f = frame({ width: pw, height: ph, margin: { left: 40, right: 10, top: 22, bottom: 30 }, x: [z0, z1], y: [lo - pad, hi + pad], xLabel: 'z', zeroLine: true });
    const title = name === 'leakyRelu' ? `leaky ReLU (α = ${alpha})` : name === 'prelu' ? `PReLU (λ = ${lambda})` : TITLES[name] ?? name;
    const phi = `<path class="dd-phi" d="${linePath(zs.map((z, i) => [f.sx(z), f.sy(a[i])]))}" fill="none" stroke="${PALETTE[0]}" stroke-width="2"/>`;
    const dphi = d ? `<path class="dd-dphi" d="${linePath(zs.map((z, i) => [f.sx(z), f.sy(d[i])]))}" fill="none" stroke="${PALETTE[1]}" stroke-width="1.6" stroke-dasharray="5 3"/>` : '';
    return `<g class="dd-activation-panel" transform="translate(${ox} ${oy})"><text x="${pw / 2}" y="13" text-anchor="middle" font-size="12" fill="#222">${esc(title)}</text>${f.svg}${phi}${dphi}</g>`;
  });
  const leg = legend([{ name: 'φ(z)', color: PALETTE[0] }, { name: '∂a/∂z', color: PALETTE[1], dash: '5 3' }], 12, top - 10);
  return svgRoot('activations', width, height, opts.title, leg + panels.join(''));
}
