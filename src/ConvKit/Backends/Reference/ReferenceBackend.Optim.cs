namespace ConvKit.Backends.Reference;

// Optimiser steps, one element at a time, as PyTorch 1.13's single-tensor SGD and Adam write them.
public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public void SgdStep(Storage parameter, Storage gradient, Storage? momentumBuffer, SgdUpdate update)
    {
        float[] p = Data(parameter), g = Data(gradient);
        float[]? buffer = momentumBuffer == null ? null : Data(momentumBuffer);
        if (update.Momentum != 0 && buffer == null) throw new ArgumentNullException(nameof(momentumBuffer), "SGD with momentum needs a momentum buffer");
        for (int i = 0; i < p.Length; i++)
        {
            double d = update.Maximize ? -g[i] : g[i];
            d += update.WeightDecay * p[i];
            if (update.Momentum != 0)
            {
                buffer![i] = (float)(update.FirstStep ? d : update.Momentum * buffer[i] + (1 - update.Dampening) * d);
                d = update.Nesterov ? d + update.Momentum * buffer[i] : buffer[i];
            }
            p[i] = (float)(p[i] - update.LearningRate * d);
        }
    }

    /// <inheritdoc/>
    public void AdamStep(Storage parameter, Storage gradient, Storage expAvg, Storage expAvgSq, Storage? maxExpAvgSq, AdamUpdate update)
    {
        float[] p = Data(parameter), g = Data(gradient), m = Data(expAvg), v = Data(expAvgSq);
        float[]? vMax = maxExpAvgSq == null ? null : Data(maxExpAvgSq);
        if (update.Amsgrad && vMax == null) throw new ArgumentNullException(nameof(maxExpAvgSq), "AMSGrad needs the running maximum");
        double correction1 = 1 - Math.Pow(update.Beta1, update.Step), correction2 = 1 - Math.Pow(update.Beta2, update.Step);
        for (int i = 0; i < p.Length; i++)
        {
            double param = p[i];
            if (update.DecoupledWeightDecay) param *= 1 - update.LearningRate * update.WeightDecay;
            double grad = update.Maximize ? -g[i] : g[i];
            if (!update.DecoupledWeightDecay) grad += update.WeightDecay * param;
            m[i] = (float)(update.Beta1 * m[i] + (1 - update.Beta1) * grad);
            v[i] = (float)(update.Beta2 * v[i] + (1 - update.Beta2) * grad * grad);
            double second = v[i];
            if (update.Amsgrad) second = vMax![i] = Math.Max(vMax[i], v[i]);
            double denominator = Math.Sqrt(second) / Math.Sqrt(correction2) + update.Eps;
            p[i] = (float)(param - update.LearningRate / correction1 * m[i] / denominator);
        }
    }
}
