using ConvKit.Backends;

namespace ConvKit.Ops;

/// <summary>
/// Validates a convolution's operands and configuration and resolves them into a <see cref="ConvGeometry"/>,
/// before anything is allocated. Used by the ops and by the layers' OutputShape; <c>op</c> names the caller
/// in every message.
/// </summary>
static class ConvShapes
{
    public static ConvGeometry Conv2d(string op, int[] input, int[] weight, int[]? bias, Size2 stride, Padding padding, Size2 dilation, int groups)
    {
        string shapes = $"input shape {Shapes.Format(input)}, weight shape {Shapes.Format(weight)}";
        CheckOperands(op, input, weight, shapes);
        CheckConfiguration(op, stride, dilation, groups);
        if (padding.Mode == PaddingMode.Explicit) CheckNonNegative(op, "padding", padding.Size);
        int inChannels = input[1], outChannels = weight[0];
        CheckGroups(op, groups, inChannels, "input", shapes);
        CheckGroups(op, groups, outChannels, "output", shapes);
        if (weight[1] * groups != inChannels)
            throw new ArgumentException(
                $"{op}: the input has {inChannels} channels but the weight expects {weight[1]} per group × {groups} group(s) = {weight[1] * groups} ({shapes}).");
        CheckBias(op, bias, outChannels);

        var (top, outHeight) = Side(op, "height", input[2], weight[2], stride.Height, padding.Mode, padding.Size.Height, dilation.Height, shapes);
        var (left, outWidth) = Side(op, "width", input[3], weight[3], stride.Width, padding.Mode, padding.Size.Width, dilation.Width, shapes);
        return new ConvGeometry(input[0], inChannels, input[2], input[3], outChannels, outHeight, outWidth, weight[2], weight[3],
            stride.Height, stride.Width, top, left, dilation.Height, dilation.Width, groups);
    }

    /// <summary>The geometry of the convolution whose data gradient this transposed convolution is: its input is our output.</summary>
    public static ConvGeometry ConvTranspose2d(string op, int[] input, int[] weight, int[]? bias, Size2 stride, Size2 padding,
        Size2 outputPadding, Size2 dilation, int groups)
    {
        string shapes = $"input shape {Shapes.Format(input)}, weight shape {Shapes.Format(weight)}";
        CheckOperands(op, input, weight, shapes);
        CheckConfiguration(op, stride, dilation, groups);
        CheckNonNegative(op, "padding", padding);
        CheckNonNegative(op, "outputPadding", outputPadding);
        if (outputPadding.Height >= Math.Max(stride.Height, dilation.Height) || outputPadding.Width >= Math.Max(stride.Width, dilation.Width))
            throw new ArgumentException($"{op}: outputPadding {outputPadding} must be smaller than the stride {stride} or the dilation {dilation}.");
        int inChannels = input[1];
        if (weight[0] != inChannels)
            throw new ArgumentException($"{op}: the input has {inChannels} channels but the weight expects {weight[0]} ({shapes}).");
        CheckGroups(op, groups, inChannels, "input", shapes);
        int outChannels = weight[1] * groups;
        CheckBias(op, bias, outChannels);

        int outHeight = (input[2] - 1) * stride.Height - 2 * padding.Height + dilation.Height * (weight[2] - 1) + outputPadding.Height + 1;
        int outWidth = (input[3] - 1) * stride.Width - 2 * padding.Width + dilation.Width * (weight[3] - 1) + outputPadding.Width + 1;
        if (outHeight < 1 || outWidth < 1)
            throw new ArgumentException(
                $"{op}: the output would be {outHeight}×{outWidth}; padding {padding} trims more than the input gives ({shapes}, stride {stride}).");
        return new ConvGeometry(input[0], outChannels, outHeight, outWidth, inChannels, input[2], input[3], weight[2], weight[3],
            stride.Height, stride.Width, padding.Height, padding.Width, dilation.Height, dilation.Width, groups);
    }

    static void CheckOperands(string op, int[] input, int[] weight, string shapes)
    {
        if (input.Length != 4)
            throw new ArgumentException($"{op}: the input must be 4-D (N, C, H, W) ({shapes}).");
        if (weight.Length != 4)
            throw new ArgumentException($"{op}: the weight must be 4-D (out, in/groups, kH, kW) ({shapes}).");
        if (input[0] < 0 || input[1] < 1 || input[2] < 1 || input[3] < 1)
            throw new ArgumentException($"{op}: the input needs a batch size of at least 0 and positive channels, height and width ({shapes}).");
        if (weight.Any(size => size < 1))
            throw new ArgumentException($"{op}: every weight size must be positive ({shapes}).");
    }

    static void CheckConfiguration(string op, Size2 stride, Size2 dilation, int groups)
    {
        if (stride.Height < 1 || stride.Width < 1) throw new ArgumentException($"{op}: stride {stride} must be positive.");
        if (dilation.Height < 1 || dilation.Width < 1) throw new ArgumentException($"{op}: dilation {dilation} must be positive.");
        if (groups < 1) throw new ArgumentException($"{op}: groups ({groups}) must be positive.");
    }

    static void CheckNonNegative(string op, string name, Size2 size)
    {
        if (size.Height < 0 || size.Width < 0) throw new ArgumentException($"{op}: {name} {size} must not be negative.");
    }

    static void CheckGroups(string op, int groups, int channels, string side, string shapes)
    {
        if (channels % groups != 0)
            throw new ArgumentException($"{op}: groups ({groups}) must divide the {side} channels ({channels}) ({shapes}).");
    }

    static void CheckBias(string op, int[]? bias, int outChannels)
    {
        if (bias != null && (bias.Length != 1 || bias[0] != outChannels))
            throw new ArgumentException($"{op}: the bias must have shape [{outChannels}] (one per output channel), got {Shapes.Format(bias)}.");
    }

    /// <summary>Padding before the first row (or column) and the output size along one side.</summary>
    static (int Before, int Output) Side(string op, string side, int size, int kernel, int stride, PaddingMode mode, int pad, int dilation, string shapes)
    {
        int span = dilation * (kernel - 1) + 1;
        int before, total;
        if (mode == PaddingMode.Same)
        {
            int output = (size + stride - 1) / stride;
            total = Math.Max((output - 1) * stride + span - size, 0);
            before = total / 2;
        }
        else
        {
            before = pad;
            total = 2 * pad;
        }
        if (size + total < span)
            throw new ArgumentException(
                $"{op}: the kernel {side} ({kernel}, dilated to {span}) is larger than the padded input {side} ({size} + {total} padding = {size + total}) ({shapes}).");
        return (before, (size + total - span) / stride + 1);
    }
}
