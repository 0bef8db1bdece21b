using ConvKit.Autograd;
using ConvKit.Backends;
using ConvKit.Onnx.Proto;
using ConvKit.Ops;
using static ConvKit.Onnx.OnnxGraphBuilder;

namespace ConvKit.Onnx;

// The translation of each traced ConvKit op into opset-17 ONNX nodes. Sizes other than the batch are fixed at
// their traced values; shapes that carry the batch (Reshape) copy it from the input at run time.
sealed partial class TraceToOnnx
{
    /// <summary>Adds the node(s) computing <paramref name="op"/> and returns its output's value name.</summary>
    /// <param name="inputs">value names of op.Inputs, "" where an optional operand is absent</param>
    string Translate(TracedOp op, string[] inputs, string nodeName, string? outputName, string layer)
    {
        string Node(string opType, IEnumerable<string> nodeInputs, params AttributeProto[] attributes) =>
            graph.Node(opType, nodeName, nodeInputs, outputName, attributes);
        string Step(string opType, IEnumerable<string> nodeInputs, params AttributeProto[] attributes) =>
            graph.Node(opType, nodeName, nodeInputs, null, attributes);
        NotSupportedException Unsupported(string why) => this.Unsupported($"op '{op.Op}'", layer, why);
        T Attribute<T>(string name) => (T)op.Attributes[name];

        // The coverage table is authoritative: an op it does not list does not export, whatever the switch says.
        if (!OnnxOpCoverage.Translated.Contains(op.Op)) throw Unsupported("it has no ONNX translation");
        var x = op.Inputs[0]!;
        switch (op.Op)
        {
            case "Pow" when op.Attributes.TryGetValue("exponent", out var exponent):
                return Node("Pow", [inputs[0], graph.Constant([(float)exponent])]);
            case "Clone": return Node("Identity", inputs);
            case "Expand":
            {
                // 1 where the axis keeps its size, so that ONNX's two-way broadcast leaves the batch free.
                var shape = Attribute<int[]>("shape");
                var target = shape.Select((d, i) => (long)d).ToArray();
                for (int i = 1; i <= x.Rank; i++)
                    if (x.Shape[^i] == shape[^i]) target[^i] = 1;
                return Node("Expand", [inputs[0], graph.Int64Constant(target)]);
            }
            case "Slice":
                return Node("Slice", [inputs[0], graph.Int64Constant(Attribute<int>("start")), graph.Int64Constant(Attribute<int>("end")),
                    graph.Int64Constant(Attribute<int>("dim")), graph.Int64Constant(Attribute<int>("step"))]);
            // Reductions are traced with their axes kept (size 1); dropping them is a Reshape traced after.
            case "Sum" or "Max" or "Min":
            {
                var axes = Attribute<int[]>("dims").Select(d => (long)d).ToArray();
                if (axes.Length == 0) return Node("Identity", inputs);
                // Opset 17: ReduceSum takes its axes as an input, ReduceMax and ReduceMin as an attribute.
                return op.Op == "Sum"
                    ? Node("ReduceSum", [inputs[0], graph.Int64Constant(axes)], Int("keepdims", 1))
                    : Node("Reduce" + op.Op, inputs, Ints("axes", axes), Int("keepdims", 1));
            }
            // ONNX compares into booleans; ConvKit holds 0/1 floats, and its Where picks x where the condition is non-zero.
            case "Eq" or "Lt" or "Le" or "Gt" or "Ge":
            {
                string onnx = op.Op switch { "Eq" => "Equal", "Lt" => "Less", "Le" => "LessOrEqual", "Gt" => "Greater", _ => "GreaterOrEqual" };
                return Node("Cast", [Step(onnx, inputs)], Int("to", (long)TensorProto.Types.DataType.Float));
            }
            case "Ne": return Node("Cast", [Step("Not", [Step("Equal", inputs)])], Int("to", (long)TensorProto.Types.DataType.Float));
            case "Where":
                return Node("Where", [Step("Cast", [inputs[0]], Int("to", (long)TensorProto.Types.DataType.Bool)), inputs[1], inputs[2]]);
            case "ArgMax":
                // ONNX gives int64 indices; ConvKit's are Int32, an INT32 value (cast to FLOAT where a float op reads it).
                return Node("Cast", [Step("ArgMax", inputs, Int("axis", Attribute<int>("dim")), Int("keepdims", 1))], Int("to", (long)TensorProto.Types.DataType.Int32));
            case "Add" or "Sub" or "Mul" or "Div" or "Pow" or "Relu" or "Tanh" or "Sigmoid" or "Neg" or "Exp" or "Log" or "Sqrt" or "Abs" or "Sign":
                return Node(op.Op, inputs);
            case "Erf" or "HardSwish": return Node(op.Op, inputs);
            // Gelu is an ONNX op from opset 20; at 17 it is PyTorch's form, x·½·(1 + erf(x/√2)), which importers fuse back.
            case "Gelu":
            {
                string erf = Step("Erf", [Step("Div", [inputs[0], graph.Constant([MathF.Sqrt(2f)])])]);
                return Node("Mul", [Step("Mul", [inputs[0], Step("Add", [erf, graph.Constant([1f])])]), graph.Constant([0.5f])]);
            }
            // PyTorch's hardsigmoid is ONNX's with slope 1/6 (ONNX's default is 0.2).
            case "HardSigmoid": return Node("HardSigmoid", inputs, Float("alpha", 1f / 6), Float("beta", 0.5f));
            case "Maximum": return Node("Max", inputs);
            case "Minimum": return Node("Min", inputs);
            case "Square": return Node("Mul", [inputs[0], inputs[0]]);
            case "LeakyRelu": return Node("LeakyRelu", inputs, Float("alpha", Attribute<float>("negativeSlope")));
            case "Relu6": return Node("Clip", [inputs[0], graph.Constant([0f]), graph.Constant([6f])]);
            case "Clamp":
                float min = Attribute<float>("min"), max = Attribute<float>("max");
                return Node("Clip", [inputs[0], float.IsNegativeInfinity(min) ? "" : graph.Constant([min]), float.IsPositiveInfinity(max) ? "" : graph.Constant([max])]);
            case "Softmax" or "LogSoftmax": return Node(op.Op, inputs, Int("axis", Attribute<int>("dim")));
            case "Concat": return Node("Concat", inputs, Int("axis", Attribute<int>("dim")));
            case "Permute": return Node("Transpose", inputs, Ints("perm", [.. Attribute<int[]>("dims").Select(d => (long)d)]));
            case "Reshape": return Node("Reshape", [inputs[0], graph.Int64Constant(ReshapeTarget(x.Shape, op.Output.Shape))]);
            case "MatMul": return Node("MatMul", inputs);

            case "Linear":
                if (x.Rank == 2) return Node("Gemm", inputs.Where(i => i.Length > 0), Int("transB", 1));
                string transposed = Step("Transpose", [inputs[1]], Ints("perm", 1, 0));
                if (inputs[2].Length == 0) return Node("MatMul", [inputs[0], transposed]);
                return Node("Add", [Step("MatMul", [inputs[0], transposed]), inputs[2]]);

            case "Conv2d":
            {
                var g = Attribute<ConvGeometry>("geometry");
                // Bottom/right padding is whatever the output size needs (none if the last rows go unread).
                int bottom = Math.Max(0, (g.OutHeight - 1) * g.StrideHeight + g.DilationHeight * (g.KernelHeight - 1) + 1 - g.InHeight - g.PadTop);
                int right = Math.Max(0, (g.OutWidth - 1) * g.StrideWidth + g.DilationWidth * (g.KernelWidth - 1) + 1 - g.InWidth - g.PadLeft);
                return Node("Conv", inputs.Where(i => i.Length > 0),
                    Ints("kernel_shape", g.KernelHeight, g.KernelWidth), Ints("strides", g.StrideHeight, g.StrideWidth),
                    Ints("pads", g.PadTop, g.PadLeft, bottom, right), Ints("dilations", g.DilationHeight, g.DilationWidth), Int("group", g.Groups));
            }
            case "ConvTranspose2d":
            {
                // The geometry is that of the convolution whose input has our output's shape.
                var g = Attribute<ConvGeometry>("geometry");
                int outputPaddingHeight = g.InHeight - ((g.OutHeight - 1) * g.StrideHeight - 2 * g.PadTop + g.DilationHeight * (g.KernelHeight - 1) + 1);
                int outputPaddingWidth = g.InWidth - ((g.OutWidth - 1) * g.StrideWidth - 2 * g.PadLeft + g.DilationWidth * (g.KernelWidth - 1) + 1);
                return Node("ConvTranspose", inputs.Where(i => i.Length > 0),
                    Ints("kernel_shape", g.KernelHeight, g.KernelWidth), Ints("strides", g.StrideHeight, g.StrideWidth),
                    Ints("pads", g.PadTop, g.PadLeft, g.PadTop, g.PadLeft), Ints("dilations", g.DilationHeight, g.DilationWidth),
                    Ints("output_padding", outputPaddingHeight, outputPaddingWidth), Int("group", g.Groups));
            }

            case "BatchNorm":
            {
                if (Attribute<bool>("training") || op.Inputs[3] == null)
                    throw Unsupported("batch norm with batch statistics has no ONNX form; running statistics (evaluation mode, trackRunningStats) are needed");
                int channels = x.Shape[1];
                string scale = inputs[1].Length > 0 ? inputs[1] : graph.Constant(Enumerable.Repeat(1f, channels).ToArray(), channels);
                string shift = inputs[2].Length > 0 ? inputs[2] : graph.Constant(new float[channels], channels);
                return Node("BatchNormalization", [inputs[0], scale, shift, inputs[3], inputs[4]], Float("epsilon", Attribute<float>("eps")));
            }
            case "LayerNorm":
            {
                var shape = Attribute<int[]>("normalizedShape");
                // ONNX requires the scale; a missing weight is ones.
                string scale = inputs[1].Length > 0 ? inputs[1] : graph.Constant(Enumerable.Repeat(1f, shape.Aggregate(1, (a, b) => a * b)).ToArray(), [.. shape.Select(d => (long)d)]);
                return Node("LayerNormalization", inputs[2].Length > 0 ? [inputs[0], scale, inputs[2]] : [inputs[0], scale],
                    Int("axis", -shape.Length), Float("epsilon", Attribute<float>("eps")));
            }
            case "LocalResponseNorm":
            {
                int size = Attribute<int>("size");
                // ONNX centres an even window one channel later than PyTorch does.
                if (size % 2 == 0) throw Unsupported($"an even window (size {size}) is placed differently by ONNX's LRN");
                return Node("LRN", inputs, Int("size", size), Float("alpha", Attribute<float>("alpha")), Float("beta", Attribute<float>("beta")),
                    Float("bias", Attribute<float>("k")));
            }

            case "MaxPool2d" or "AvgPool2d":
            {
                RequireImages(x, Unsupported);
                var g = Attribute<Pool2dGeometry>("geometry");
                var common = new List<AttributeProto>
                {
                    Ints("kernel_shape", g.Kernel.Height, g.Kernel.Width), Ints("strides", g.Stride.Height, g.Stride.Width),
                    // Asymmetric max pooling traces its (top, left, bottom, right) pads beside the geometry.
                    op.Attributes.TryGetValue("pads", out var traced) && traced is Pads2d p
                        ? Ints("pads", p.Top, p.Left, p.Bottom, p.Right)
                        : Ints("pads", g.Padding.Height, g.Padding.Width, g.Padding.Height, g.Padding.Width),
                    Int("ceil_mode", Attribute<bool>("ceilMode") ? 1 : 0),
                };
                if (op.Op == "MaxPool2d") return Node("MaxPool", inputs, [.. common, Ints("dilations", g.Dilation.Height, g.Dilation.Width)]);
                if (Attribute<int>("divisor") != 0) throw Unsupported("divisorOverride has no ONNX form");
                return Node("AveragePool", inputs, [.. common, Int("count_include_pad", Attribute<bool>("countIncludePad") ? 1 : 0)]);
            }
            case "AdaptiveAvgPool2d":
            {
                RequireImages(x, Unsupported);
                int height = x.Shape[2], width = x.Shape[3], outHeight = op.Output.Shape[2], outWidth = op.Output.Shape[3];
                if (outHeight == 1 && outWidth == 1) return Node("GlobalAveragePool", inputs);
                if (height % outHeight == 0 && width % outWidth == 0)
                {
                    long kernelHeight = height / outHeight, kernelWidth = width / outWidth;
                    return Node("AveragePool", inputs, Ints("kernel_shape", kernelHeight, kernelWidth), Ints("strides", kernelHeight, kernelWidth));
                }
                // Windows of unequal or overlapping extent: average each axis with a matrix, X·Awᵀ then Ah·(X·Awᵀ).
                string columns = Step("MatMul", [inputs[0], graph.Constant(AdaptiveAverages(width, outWidth, transpose: true), width, outWidth)]);
                return Node("MatMul", [graph.Constant(AdaptiveAverages(height, outHeight, transpose: false), outHeight, height), columns]);
            }
            case "Upsample":
            {
                var g = Attribute<UpsampleGeometry>("geometry");
                var mode = Attribute<UpsampleMode>("mode");
                var scales = graph.Constant([1f, 1f, ResizeScale(g.InputHeight, g.OutputHeight), ResizeScale(g.InputWidth, g.OutputWidth)], 4);
                var attributes = mode == UpsampleMode.Nearest
                    ? new[] { String("mode", "nearest"), String("coordinate_transformation_mode", "asymmetric"), String("nearest_mode", "floor") }
                    : [String("mode", "linear"), String("coordinate_transformation_mode", g.AlignCorners ? "align_corners" : "pytorch_half_pixel")];
                return Node("Resize", [inputs[0], "", scales], attributes);
            }
            // ONNX's MaxRoiPool (Caffe's RoI pooling, as torchvision's) takes the same (K, 5) rows.
            case "RoiPool":
            {
                var size = Attribute<Size2>("outputSize");
                return Node("MaxRoiPool", inputs, Ints("pooled_shape", size.Height, size.Width), Float("spatial_scale", Attribute<float>("spatialScale")));
            }
            // ONNX's RoiAlign takes (K, 4) boxes and int64 batch indices apart; output_half_pixel is torchvision's
            // aligned=False (boxes at least 1×1), half_pixel its aligned=True; sampling_ratio 0 is the adaptive grid.
            case "RoiAlign":
            {
                var size = Attribute<Size2>("outputSize");
                string corners = Step("Slice", [inputs[1], graph.Int64Constant(1), graph.Int64Constant(5), graph.Int64Constant(1)]);
                string batchColumn = Step("Slice", [inputs[1], graph.Int64Constant(0), graph.Int64Constant(1), graph.Int64Constant(1)]);
                string batchIndices = Step("Cast", [Step("Reshape", [batchColumn, graph.Int64Constant(-1)])], Int("to", (long)TensorProto.Types.DataType.Int64));
                return Node("RoiAlign", [inputs[0], corners, batchIndices],
                    String("coordinate_transformation_mode", Attribute<bool>("aligned") ? "half_pixel" : "output_half_pixel"), String("mode", "avg"),
                    Int("output_height", size.Height), Int("output_width", size.Width),
                    Int("sampling_ratio", Math.Max(Attribute<int>("samplingRatio"), 0)), Float("spatial_scale", Attribute<float>("spatialScale")));
            }
            default:
                throw Unsupported("it has no ONNX translation");
        }
    }

    static void RequireImages(Tensor x, Func<string, NotSupportedException> unsupported)
    {
        if (x.Rank != 4) throw unsupported($"ONNX pools images (N, C, H, W), the input has shape [{string.Join(", ", x.Shape)}]");
    }

    /// <summary>
    /// The Reshape target: axes that keep their leading sizes are copied from the input at run time (0), so the
    /// batch stays free; when even axis 0 changes, the batch is assumed folded into it (-1).
    /// </summary>
    long[] ReshapeTarget(IReadOnlyList<int> from, IReadOnlyList<int> to)
    {
        var target = to.Select(d => (long)d).ToArray();
        if (!options.DynamicBatch || target.Length == 0) return target;
        int kept = 0;
        while (kept < Math.Min(from.Count, to.Count) && from[kept] == to[kept]) kept++;
        if (kept == 0) target[0] = -1;
        for (int i = 0; i < kept; i++) target[i] = 0;
        return target;
    }

    /// <summary>
    /// The (outSize × inSize) matrix whose row i averages input positions ⌊i·in/out⌋ … ⌈(i+1)·in/out⌉ − 1 (as
    /// <see cref="F.AdaptiveAvgPool2d"/>), or its transpose.
    /// </summary>
    static float[] AdaptiveAverages(int inSize, int outSize, bool transpose)
    {
        var matrix = new float[inSize * outSize];
        for (int i = 0; i < outSize; i++)
        {
            int start = i * inSize / outSize, end = ((i + 1) * inSize + outSize - 1) / outSize;
            for (int j = start; j < end; j++) matrix[transpose ? j * outSize + i : i * inSize + j] = 1f / (end - start);
        }
        return matrix;
    }

    /// <summary>out/in as a float32 scale whose product with <paramref name="inSize"/> does not round below <paramref name="outSize"/>.</summary>
    static float ResizeScale(int inSize, int outSize)
    {
        float scale = (float)outSize / inSize;
        while (MathF.Floor(inSize * scale) < outSize) scale = MathF.BitIncrement(scale);
        return scale;
    }
}
