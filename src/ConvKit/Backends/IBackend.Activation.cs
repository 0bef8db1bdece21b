namespace ConvKit.Backends;

/// <summary>Element-wise activation functions.</summary>
public enum ActivationOp
{
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>x for x &gt; 0, else slope·x (the slope is the kernel's parameter)</summary>
    LeakyRelu,
    /// <summary>min(max(x, 0), 6)</summary>
    Relu6,
    /// <summary>tanh(x)</summary>
    Tanh,
    /// <summary>1 / (1 + e^−x)</summary>
    Sigmoid,
}

public partial interface IBackend
{
    /// <summary>y = f(x) element-wise; <paramref name="parameter"/> is LeakyRelu's negative slope and ignored otherwise.</summary>
    void Activation(ActivationOp op, float parameter, Storage x, Storage y);

    /// <summary>
    /// gradX = gradY·f′, element-wise. The ReLU family reads f′ from x (0 at the kinks, the slope for
    /// LeakyRelu at 0, as PyTorch), Tanh and Sigmoid from their output y.
    /// </summary>
    void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX);
}
