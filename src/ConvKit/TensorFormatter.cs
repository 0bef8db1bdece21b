using System.Globalization;
using System.Text;

namespace ConvKit;

/// <summary>PyTorch-like printing of tensor values (int32 tensors as whole numbers, as PyTorch prints integer tensors).</summary>
static class TensorFormatter
{
    const int FullLimit = 1000, EdgeItems = 3;

    public static string Format(Tensor tensor)
    {
        string[] values = tensor.DType == Backends.DType.Int32
            ? Array.ConvertAll(tensor.ToInt32Array(), v => v.ToString(CultureInfo.InvariantCulture))
            : Array.ConvertAll(tensor.ToArray(), Number);
        var text = new StringBuilder("tensor(");
        if (tensor.Rank == 0) text.Append(values[0]);
        else AppendAxis(text, values, tensor.Dims, 0, 0, tensor.Numel > FullLimit, indent: 7);
        if (tensor.Rank > 1 || tensor.Numel > FullLimit) text.Append(", shape=").Append(tensor.ShapeString);
        if (tensor.DType == Backends.DType.Int32) text.Append(", dtype=int32");
        if (tensor.GradFn != null) text.Append(", grad_fn=").Append(tensor.GradFn.Op);
        else if (tensor.RequiresGrad) text.Append(", requires_grad=True");
        return text.Append(')').ToString();
    }

    static void AppendAxis(StringBuilder text, string[] values, int[] dims, int axis, int offset, bool abbreviate, int indent)
    {
        int size = dims[axis], stride = 1;
        for (int d = axis + 1; d < dims.Length; d++) stride *= dims[d];
        text.Append('[');
        for (int i = 0; i < size; i++)
        {
            if (abbreviate && size > 2 * EdgeItems && i == EdgeItems)
            {
                text.Append(axis == dims.Length - 1 ? "..., " : "...,\n" + new string(' ', indent + axis + 1));
                i = size - EdgeItems;
            }
            if (axis == dims.Length - 1) text.Append(values[offset + i]);
            else AppendAxis(text, values, dims, axis + 1, offset + i * stride, abbreviate, indent);
            if (i < size - 1)
                text.Append(axis == dims.Length - 1 ? ", " : "," + new string('\n', dims.Length - axis - 1) + new string(' ', indent + axis + 1));
        }
        text.Append(']');
    }

    static string Number(float value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}
