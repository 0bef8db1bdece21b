using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The convolutional implementation of sliding windows (Sermanet et al.'s OverFeat, as the course teaches it): a
/// <see cref="WindowClassifier"/>'s own weights run over a whole picture in one pass. Its features already slide; each
/// fully connected layer becomes a convolution — the first, reading (C, h, w) features, a C → out convolution with an
/// h×w kernel whose weight is the linear weight viewed as (out, C, h, w) (flattening is channel-major, so the view is
/// exact); the later ones 1×1 convolutions — and element-wise layers apply per position. Output position (i, j) is the
/// classifier's answer for the window whose top-left corner is (i·stride, j·stride), and the windows' shared
/// computations are done once. The weights are not copied: the convolutions read the classifier's parameters at each
/// forward, so training either trains both. Compare with the windows one by one in evaluation mode (batch norm's batch
/// statistics and dropout differ otherwise). Sub-module <c>window</c> (the classifier).
/// </summary>
public sealed class ConvolutionalWindowClassifier : Module
{
    /// <summary>The window classifier whose weights this runs.</summary>
    public WindowClassifier Window { get; }

    /// <summary>The convolutional form of <paramref name="window"/> (see the class summary).</summary>
    public ConvolutionalWindowClassifier(WindowClassifier window)
    {
        ArgumentNullException.ThrowIfNull(window);
        Window = RegisterModule("window", window);
    }

    /// <param name="input">(N, InChannels, H, W) with H and W at least the window's</param>
    /// <returns>class logits (N, Classes, rows, columns), one per window position (<see cref="WindowClassifier.Positions"/>)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != Window.InChannels)
            throw new ArgumentException($"ConvolutionalWindowClassifier: the input must be (N, {Window.InChannels}, H, W) pictures, got {ModelChecks.Format(input.Shape)}.");
        var (rows, columns) = Window.Positions(input.Shape[2], input.Shape[3]);
        var x = Window.Features.Forward(input);
        var (channels, height, width) = Window.FeatureShape;
        bool first = true;
        foreach (var (_, layer) in Window.Classifier.NamedChildren())
        {
            if (layer is Linear linear)
            {
                var weight = first ? linear.Weight.Reshape(linear.OutFeatures, channels, height, width) : linear.Weight.Reshape(linear.OutFeatures, linear.InFeatures, 1, 1);
                x = F.Conv2d(x, weight, linear.Bias);
                first = false;
            }
            else x = layer.Forward(x);
        }
        // A window whose last pixels the pools drop leaves room for one more position than whole windows fit: keep those that fit.
        if (x.Shape[2] > rows) x = x.Narrow(2, 0, rows);
        if (x.Shape[3] > columns) x = x.Narrow(3, 0, columns);
        return x;
    }
}
