using System.Collections.ObjectModel;

namespace GpuNet.IO;

/// <summary>One named float32 tensor: its shape and its values in row-major order.</summary>
/// <remarks>Equality compares the arrays by reference, as records do.</remarks>
public sealed record TensorEntry(string Name, long[] Shape, float[] Data)
{
    /// <summary>"[d0, d1, ...]", for messages.</summary>
    internal static string FormatShape(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}

/// <summary>The content of a safetensors file: its metadata and its tensors, in the order of their data in the file.</summary>
public sealed class SafeTensorsFile
{
    private readonly Dictionary<string, TensorEntry> _byName;

    internal SafeTensorsFile(string filePath, IDictionary<string, string> metadata, IList<TensorEntry> tensors)
    {
        FilePath = filePath;
        Metadata = new ReadOnlyDictionary<string, string>(metadata);
        Tensors = new ReadOnlyCollection<TensorEntry>(tensors);
        _byName = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        foreach (var t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>The path the file was read from, as given to <see cref="SafeTensors.Read(string)"/>.</summary>
    public string FilePath { get; }

    /// <summary>The string pairs under "__metadata__" (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor in the file, ordered by where its data lies.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }

    /// <summary>The tensor called <paramref name="name"/>, or null when the file has none.</summary>
    public TensorEntry? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.GetValueOrDefault(name);
    }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="ModelFormatException">The file has no such tensor; the message lists those it has.</exception>
    public TensorEntry Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out var t)) return t;
        const int shown = 20;
        string have = Tensors.Count == 0
            ? "it holds no tensors"
            : "it holds " + string.Join(", ", Tensors.Take(shown).Select(x => $"'{x.Name}'"))
              + (Tensors.Count > shown ? $" and {Tensors.Count - shown} more" : "");
        throw new ModelFormatException($"safetensors file '{FilePath}' has no tensor named '{name}'; {have}");
    }

    /// <summary>The tensor called <paramref name="name"/>, which must have exactly <paramref name="expectedShape"/>.</summary>
    /// <exception cref="ModelFormatException">The file has no such tensor, or its shape differs.</exception>
    public TensorEntry Get(string name, params long[] expectedShape)
    {
        ArgumentNullException.ThrowIfNull(expectedShape);
        var t = Get(name);
        if (!t.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new ModelFormatException(
                $"tensor '{name}' in safetensors file '{FilePath}' has shape {TensorEntry.FormatShape(t.Shape)}, " +
                $"expected {TensorEntry.FormatShape(expectedShape)}");
        return t;
    }
}
