namespace ConvKit.Backends.Cpu;

// Up-sampling. Source indices and blend weights depend only on the output row or column, so they are
// computed once per call and shared by every plane.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void UpsampleNearest(Storage x, UpsampleGeometry g, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        var rows = NearestSources(g.InputHeight, g.OutputHeight, g.ScaleHeight);
        var columns = NearestSources(g.InputWidth, g.OutputWidth, g.ScaleWidth);
        AxisBlocks.Run(g.Planes, g.OutputPlaneSize, 1, (p, _, _) =>
        {
            var plane = input.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var result = output.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            for (int oh = 0; oh < g.OutputHeight; oh++)
            {
                var source = plane.Slice(rows[oh] * g.InputWidth, g.InputWidth);
                var row = result.Slice(oh * g.OutputWidth, g.OutputWidth);
                for (int ow = 0; ow < row.Length; ow++) row[ow] = source[columns[ow]];
            }
        });
    }

    /// <inheritdoc/>
    public void UpsampleNearestBackward(Storage gradY, UpsampleGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        var rows = NearestSources(g.InputHeight, g.OutputHeight, g.ScaleHeight);
        var columns = NearestSources(g.InputWidth, g.OutputWidth, g.ScaleWidth);
        AxisBlocks.Run(g.Planes, g.OutputPlaneSize, 1, (p, _, _) =>
        {
            var plane = inputGrad.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var grads = outputGrad.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            for (int oh = 0; oh < g.OutputHeight; oh++)
            {
                var target = plane.Slice(rows[oh] * g.InputWidth, g.InputWidth);
                var row = grads.Slice(oh * g.OutputWidth, g.OutputWidth);
                for (int ow = 0; ow < row.Length; ow++) target[columns[ow]] += row[ow];
            }
        });
    }

    static int[] NearestSources(int inputSize, int outputSize, float scale)
    {
        var sources = new int[outputSize];
        for (int i = 0; i < outputSize; i++)
            sources[i] = outputSize == inputSize ? i
                : outputSize == 2 * inputSize ? i >> 1
                : Math.Min((int)MathF.Floor(i * scale), inputSize - 1);
        return sources;
    }

    /// <inheritdoc/>
    public void UpsampleBilinear(Storage x, UpsampleGeometry g, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        var rows = LinearSources(g.InputHeight, g.OutputHeight, g.ScaleHeight, g.AlignCorners);
        var columns = LinearSources(g.InputWidth, g.OutputWidth, g.ScaleWidth, g.AlignCorners);
        AxisBlocks.Run(g.Planes, 4 * g.OutputPlaneSize, 1, (p, _, _) =>
        {
            var plane = input.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var result = output.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            for (int oh = 0; oh < g.OutputHeight; oh++)
            {
                var r = rows[oh];
                var top = plane.Slice(r.Index * g.InputWidth, g.InputWidth);
                var bottom = plane.Slice((r.Index + r.Step) * g.InputWidth, g.InputWidth);
                var row = result.Slice(oh * g.OutputWidth, g.OutputWidth);
                for (int ow = 0; ow < row.Length; ow++)
                {
                    var c = columns[ow];
                    row[ow] = r.Near * (c.Near * top[c.Index] + c.Far * top[c.Index + c.Step])
                        + r.Far * (c.Near * bottom[c.Index] + c.Far * bottom[c.Index + c.Step]);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        var rows = LinearSources(g.InputHeight, g.OutputHeight, g.ScaleHeight, g.AlignCorners);
        var columns = LinearSources(g.InputWidth, g.OutputWidth, g.ScaleWidth, g.AlignCorners);
        AxisBlocks.Run(g.Planes, 4 * g.OutputPlaneSize, 1, (p, _, _) =>
        {
            var plane = inputGrad.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var grads = outputGrad.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            for (int oh = 0; oh < g.OutputHeight; oh++)
            {
                var r = rows[oh];
                var top = plane.Slice(r.Index * g.InputWidth, g.InputWidth);
                var bottom = plane.Slice((r.Index + r.Step) * g.InputWidth, g.InputWidth);
                var row = grads.Slice(oh * g.OutputWidth, g.OutputWidth);
                for (int ow = 0; ow < row.Length; ow++)
                {
                    var c = columns[ow];
                    float upper = r.Near * row[ow], lower = r.Far * row[ow];
                    top[c.Index] += c.Near * upper;
                    top[c.Index + c.Step] += c.Far * upper;
                    bottom[c.Index] += c.Near * lower;
                    bottom[c.Index + c.Step] += c.Far * lower;
                }
            }
        });
    }

    /// <summary>Output position i blends input Index (weight Near) with Index + Step (weight Far); Step is 0 at the last input.</summary>
    readonly record struct LinearSource(int Index, int Step, float Near, float Far);

    static LinearSource[] LinearSources(int inputSize, int outputSize, float scale, bool alignCorners)
    {
        var sources = new LinearSource[outputSize];
        for (int i = 0; i < outputSize; i++)
        {
            float position = alignCorners ? scale * i : MathF.Max(scale * (i + 0.5f) - 0.5f, 0f);
            int index = (int)position;
            float far = position - index;
            sources[i] = new LinearSource(index, index < inputSize - 1 ? 1 : 0, 1f - far, far);
        }
        return sources;
    }
}
