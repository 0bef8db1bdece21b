using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Resize (opset 10+) and its predecessor Upsample (7–9). Each resized axis is an interpolation matrix M
// (out × in) built from the coordinate transformation and mode, applied with a matrix product — y = M_h · x · M_wᵀ —
// so every mode is exact and differentiable. Only the last two axes may change size.
static partial class Operators
{
    static OpKernel Upsample(NodeContext node)
    {
        var scalesAttribute = node.Floats("scales");
        var resize = new ResizeSettings(node, legacy: true);
        return (inputs, _) =>
        {
            var scales = node.Opset < 9 ? scalesAttribute ?? throw node.Invalid("the scales attribute is required.")
                : node.FloatInput(inputs, 1).ToArray();
            return [OnnxValue.Of(resize.Apply(node.FloatInput(inputs, 0), scales, null))];
        };
    }

    // Inputs: X, (roi), scales, (sizes) from opset 11; X, scales in opset 10.
    static OpKernel Resize(NodeContext node)
    {
        var resize = new ResizeSettings(node, legacy: node.Opset < 11);
        return (inputs, _) =>
        {
            int scalesIndex = node.Opset < 11 ? 1 : 2;
            var scales = node.HasInput(scalesIndex) && inputs[scalesIndex] is { } s && Values.Numel(s.Shape) > 0 ? node.FloatInput(inputs, scalesIndex).ToArray() : null;
            var sizes = node.Opset >= 11 && node.HasInput(3) ? node.IntInput(inputs, 3) : null;
            if ((scales == null) == (sizes is not { Length: > 0 }))
                throw node.Invalid("exactly one of scales and sizes must be given.");
            return [OnnxValue.Of(resize.Apply(node.FloatInput(inputs, 0), scales, sizes))];
        };
    }

    sealed class ResizeSettings
    {
        readonly NodeContext node;
        readonly string mode, transformation, nearestMode;
        readonly float cubicA;
        readonly bool excludeOutside;

        public ResizeSettings(NodeContext node, bool legacy)
        {
            this.node = node;
            mode = node.String("mode", "nearest");
            if (mode is "bilinear") mode = "linear";
            if (mode is not ("nearest" or "linear" or "cubic") || (legacy && mode == "cubic"))
                throw node.Unsupported($"mode '{mode}' is not supported (nearest, linear{(legacy ? "" : ", cubic")} are)");
            // Before opset 11 the transformation was fixed: asymmetric, with nearest rounding down when enlarging.
            transformation = legacy ? "asymmetric" : node.String("coordinate_transformation_mode", "half_pixel");
            if (transformation is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric"))
                throw node.Unsupported($"coordinate_transformation_mode '{transformation}' is not supported");
            nearestMode = legacy ? "legacy" : node.String("nearest_mode", "round_prefer_floor");
            if (nearestMode is not ("legacy" or "round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil"))
                throw node.Unsupported($"nearest_mode '{nearestMode}' is not supported");
            cubicA = node.Float("cubic_coeff_a", -0.75f);
            excludeOutside = node.Int("exclude_outside", 0) != 0;
            if (node.Int("antialias", 0) != 0) throw node.Unsupported("antialias = 1 is not supported");
            if (node.Ints("axes") != null) throw node.Unsupported("the axes attribute is not supported");
            if (node.String("keep_aspect_ratio_policy", "stretch") != "stretch")
                throw node.Unsupported("keep_aspect_ratio_policy other than 'stretch' is not supported");
        }

        public Tensor Apply(Tensor x, float[]? scales, long[]? sizes)
        {
            int rank = x.Rank;
            if ((scales?.Length ?? sizes!.Length) != rank)
                throw node.Invalid($"{(scales != null ? "scales" : "sizes")} has {(scales?.Length ?? sizes!.Length)} values for an input of rank {rank}.");
            var y = x;
            for (int axis = 0; axis < rank; axis++)
            {
                int input = x.Size(axis);
                int output = sizes != null ? (int)sizes[axis] : (int)Math.Floor(input * (double)scales![axis]);
                float scale = scales != null ? scales[axis] : output / (float)input;
                if (output == input && scale == 1f) continue;
                if (axis < rank - 2) throw node.Unsupported($"resizing axis {axis} is not supported (only the last two axes)");
                if (output < 1 || !(scale > 0)) throw node.Invalid($"axis {axis} of size {input} would be resized to {output}.");
                var matrix = Tensor.FromArray(Matrix(input, output, scale), output, input);
                y = axis == rank - 1 ? F.MatMul(y, matrix.Transpose(0, 1)) : F.MatMul(matrix, y);
            }
            return y;
        }

        /// <summary>The (output × input) interpolation weights of one axis, row-major.</summary>
        float[] Matrix(int input, int output, float scale)
        {
            var weights = new float[output * input];
            for (int o = 0; o < output; o++)
            {
                double x = Source(o, input, output, scale);
                var row = weights.AsSpan(o * input, input);
                if (mode == "nearest") row[Math.Clamp(Nearest(x, scale), 0, input - 1)] = 1f;
                else if (mode == "linear")
                {
                    x = Math.Clamp(x, 0, input - 1);
                    int low = (int)Math.Floor(x), high = Math.Min(low + 1, input - 1);
                    double t = x - low;
                    row[low] += (float)(1 - t);
                    row[high] += (float)t;
                }
                else Cubic(x, input, row);
            }
            return weights;
        }

        /// <summary>The input coordinate that output position <paramref name="o"/> samples.</summary>
        double Source(int o, int input, int output, float scale) => transformation switch
        {
            "half_pixel" => (o + 0.5) / scale - 0.5,
            "pytorch_half_pixel" => output > 1 ? (o + 0.5) / scale - 0.5 : 0,
            "align_corners" => output > 1 ? o * (input - 1) / (double)(output - 1) : 0,
            _ => o / (double)scale,
        };

        int Nearest(double x, float scale) => nearestMode switch
        {
            "round_prefer_floor" => x == Math.Floor(x) + 0.5 ? (int)Math.Floor(x) : (int)Math.Round(x),
            "round_prefer_ceil" => (int)Math.Round(x, MidpointRounding.AwayFromZero),
            "floor" => (int)Math.Floor(x),
            "ceil" => (int)Math.Ceiling(x),
            // ONNX Runtime's rule for Upsample and Resize-10: round down when enlarging, up when shrinking.
            _ => scale < 1 ? (int)Math.Ceiling(x) : (int)x,
        };

        /// <summary>Keys' cubic convolution over the four neighbours; outside cells clamp to the edge or are dropped and the rest renormalised.</summary>
        void Cubic(double x, int input, Span<float> row)
        {
            int floor = (int)Math.Floor(x);
            double t = x - floor, a = cubicA, total = 0;
            Span<double> coefficients = stackalloc double[4];
            for (int k = -1; k <= 2; k++)
            {
                double d = Math.Abs(t - k);
                double c = d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0;
                if (excludeOutside && (floor + k < 0 || floor + k >= input)) c = 0;
                coefficients[k + 1] = c;
                total += c;
            }
            for (int k = -1; k <= 2; k++)
            {
                double c = excludeOutside ? coefficients[k + 1] / total : coefficients[k + 1];
                row[Math.Clamp(floor + k, 0, input - 1)] += (float)c;
            }
        }
    }
}
