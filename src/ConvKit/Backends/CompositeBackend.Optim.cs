namespace ConvKit.Backends;

// SGD and Adam steps (PyTorch 1.13's single-tensor forms, see SgdUpdate and AdamUpdate) as element-wise arithmetic
// on whole buffers: a few passes where a fused kernel makes one.
public abstract partial class CompositeBackend
{
    /// <inheritdoc/>
    public virtual void SgdStep(Storage parameter, Storage gradient, Storage? momentumBuffer, SgdUpdate update)
    {
        int length = parameter.Length;
        if (update.Momentum != 0 && momentumBuffer == null)
            throw new ArgumentNullException(nameof(momentumBuffer), "SGD with momentum needs a momentum buffer");
        // d = ±g + weightDecay·p
        var d = Apply(BinaryOp.Mul, gradient, update.Maximize ? -1 : 1, length);
        if (update.WeightDecay != 0) Apply(BinaryOp.Add, d, Apply(BinaryOp.Mul, parameter, (float)update.WeightDecay, length), d, length);
        if (update.Momentum != 0)
        {
            var buffer = momentumBuffer!;
            if (update.FirstStep) Copy(d, buffer);
            else
            {
                Apply(BinaryOp.Mul, buffer, Number((float)update.Momentum), buffer, length);
                Apply(BinaryOp.Add, buffer, Apply(BinaryOp.Mul, d, (float)(1 - update.Dampening), length), buffer, length);
            }
            if (update.Nesterov) Apply(BinaryOp.Add, d, Apply(BinaryOp.Mul, buffer, (float)update.Momentum, length), d, length);
            else Copy(buffer, d);
        }
        Apply(BinaryOp.Mul, d, Number((float)update.LearningRate), d, length);
        Apply(BinaryOp.Sub, parameter, d, parameter, length);
    }

    /// <inheritdoc/>
    public virtual void AdamStep(Storage parameter, Storage gradient, Storage expAvg, Storage expAvgSq, Storage? maxExpAvgSq, AdamUpdate update)
    {
        int length = parameter.Length;
        if (update.Amsgrad && maxExpAvgSq == null) throw new ArgumentNullException(nameof(maxExpAvgSq), "AMSGrad needs the running maximum");
        if (update.DecoupledWeightDecay && update.WeightDecay != 0)
            Apply(BinaryOp.Mul, parameter, Number((float)(1 - update.LearningRate * update.WeightDecay)), parameter, length);
        var grad = Apply(BinaryOp.Mul, gradient, update.Maximize ? -1 : 1, length);
        if (!update.DecoupledWeightDecay && update.WeightDecay != 0)
            Apply(BinaryOp.Add, grad, Apply(BinaryOp.Mul, parameter, (float)update.WeightDecay, length), grad, length);
        // m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²
        Apply(BinaryOp.Mul, expAvg, Number((float)update.Beta1), expAvg, length);
        Apply(BinaryOp.Add, expAvg, Apply(BinaryOp.Mul, grad, (float)(1 - update.Beta1), length), expAvg, length);
        var squared = AllocateUninitialized(length);
        Unary(UnaryOp.Square, grad, squared);
        Apply(BinaryOp.Mul, expAvgSq, Number((float)update.Beta2), expAvgSq, length);
        Apply(BinaryOp.Add, expAvgSq, Apply(BinaryOp.Mul, squared, (float)(1 - update.Beta2), length), expAvgSq, length);
        var second = expAvgSq;
        if (update.Amsgrad)
        {
            Apply(BinaryOp.Maximum, maxExpAvgSq!, expAvgSq, maxExpAvgSq!, length);
            second = maxExpAvgSq!;
        }
        // p −= lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)
        double correction1 = 1 - Math.Pow(update.Beta1, update.Step), correction2 = 1 - Math.Pow(update.Beta2, update.Step);
        var denominator = AllocateUninitialized(length);
        Unary(UnaryOp.Sqrt, second, denominator);
        Apply(BinaryOp.Mul, denominator, Number((float)(1 / Math.Sqrt(correction2))), denominator, length);
        Apply(BinaryOp.Add, denominator, Number((float)update.Eps), denominator, length);
        var step = Apply(BinaryOp.Div, expAvg, denominator, length);
        Apply(BinaryOp.Mul, step, Number((float)(update.LearningRate / correction1)), step, length);
        Apply(BinaryOp.Sub, parameter, step, parameter, length);
    }
}
