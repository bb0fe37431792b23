using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace GpuNet.IO;

/// <summary>
/// Reads and writes the safetensors format with float32 tensors. A file is an 8-byte little-endian unsigned header
/// length N, N bytes of UTF-8 JSON, then the data section. The JSON maps each tensor name to
/// <c>{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}</c>, offsets relative to the start of the data
/// section, and may hold string pairs under <c>"__metadata__"</c>. Values are little-endian and row-major, and the
/// tensors cover the data section exactly, without holes or overlaps.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest JSON header accepted, as in the reference implementation (100,000,000 bytes).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>The key of the metadata object in the header.</summary>
    public const string MetadataKey = "__metadata__";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order, data contiguous) and <paramref name="metadata"/>
    /// (keys in ordinal order) to <paramref name="path"/>, atomically (see <see cref="AtomicFile"/>). The same inputs
    /// always give the same bytes. The header is padded with spaces to a multiple of 8 bytes.
    /// </summary>
    /// <exception cref="ModelFormatException">A tensor's shape does not match its data, a dimension is negative, two
    /// tensors share a name, a tensor is named "__metadata__", a string is not valid Unicode, or the header would be
    /// too large. Nothing is written then.</exception>
    public static void Write(string path, IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        byte[] header = BuildHeader(path, tensors, metadata);
        AtomicFile.Write(path, stream => WriteFile(stream, header, tensors));
    }

    /// <summary>The bytes <see cref="Write"/> would write (for tests and fuzzing seeds); <paramref name="name"/> is used in messages.</summary>
    internal static byte[] ToBytes(string name, IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        byte[] header = BuildHeader(name, tensors, metadata);
        using var stream = new MemoryStream();
        WriteFile(stream, header, tensors);
        return stream.ToArray();
    }

    private static void WriteFile(Stream stream, byte[] header, IReadOnlyList<TensorEntry> tensors)
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var t in tensors) WriteFloats(stream, t.Data);
    }

    private static byte[] BuildHeader(string path, IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ModelFormatException Fail(string what) => new($"cannot write safetensors file '{path}': {what}");

        long textBytes = CheckTensors(tensors, Fail);
        var keys = SortedMetadataKeys(metadata, Fail, ref textBytes);
        // Names and values alone already bound the header size from below; checking here keeps the JSON writer
        // from ever seeing a string beyond its own limits.
        if (textBytes > MaxHeaderBytes) throw Fail($"the names and metadata take {textBytes} bytes, over the {MaxHeaderBytes}-byte header limit");

        var buffer = new ArrayBufferWriter<byte>();
        WriteHeaderJson(buffer, tensors, metadata, keys);
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        if (padded > MaxHeaderBytes) throw Fail($"the JSON header would be {padded} bytes, over the {MaxHeaderBytes}-byte limit");
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    /// <summary>Checks every tensor's name, shape and data length; returns the UTF-8 bytes their names take.</summary>
    private static long CheckTensors(IReadOnlyList<TensorEntry> tensors, Func<string, ModelFormatException> fail)
    {
        long textBytes = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i] ?? throw new ArgumentException($"tensors[{i}] is null", nameof(tensors));
            if (t.Name is null || t.Shape is null || t.Data is null)
                throw new ArgumentException($"tensors[{i}] has a null name, shape or data", nameof(tensors));
            if (t.Name == MetadataKey) throw fail($"tensors[{i}] is named '{MetadataKey}', which is reserved for the metadata");
            if (!names.Add(t.Name)) throw fail($"two tensors are named '{t.Name}'");
            textBytes += Utf8ByteCount(t.Name, $"the name of tensors[{i}]", fail);
            long count = 1;
            foreach (long d in t.Shape)
            {
                if (d < 0) throw fail($"tensor '{t.Name}' has a negative dimension in shape {TensorEntry.FormatShape(t.Shape)}");
                count = d == 0 || count <= long.MaxValue / d ? count * d : -1;
                if (count < 0) break;
            }
            if (count != t.Data.Length)
                throw fail($"tensor '{t.Name}' has shape {TensorEntry.FormatShape(t.Shape)} " +
                           $"({(count < 0 ? "more than 2^63" : count.ToString())} values) but {t.Data.Length} data values");
        }
        return textBytes;
    }

    /// <summary>The metadata keys in ordinal order, each key and value checked; adds their UTF-8 bytes to <paramref name="textBytes"/>.</summary>
    private static List<string> SortedMetadataKeys(IReadOnlyDictionary<string, string> metadata,
        Func<string, ModelFormatException> fail, ref long textBytes)
    {
        var keys = new List<string>(metadata.Count);
        foreach (var (key, value) in metadata)
        {
            if (key is null || value is null) throw new ArgumentException("metadata holds a null key or value", nameof(metadata));
            textBytes += Utf8ByteCount(key, $"metadata key '{key}'", fail) + Utf8ByteCount(value, $"the metadata value of '{key}'", fail);
            keys.Add(key);
        }
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    private static long Utf8ByteCount(string s, string what, Func<string, ModelFormatException> fail)
    {
        try { return StrictUtf8.GetByteCount(s); }
        catch (EncoderFallbackException) { throw fail($"{what} is not valid Unicode (it holds an unpaired surrogate)"); }
    }

    /// <summary>Writes the unpadded JSON header: the metadata first (keys in the given order), then each tensor's
    /// dtype, shape and data_offsets in the tensors' order, the data laid out back to back.</summary>
    private static void WriteHeaderJson(ArrayBufferWriter<byte> buffer, IReadOnlyList<TensorEntry> tensors,
        IReadOnlyDictionary<string, string> metadata, List<string> keys)
    {
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        json.WriteStartObject();
        if (keys.Count > 0)
        {
            json.WriteStartObject(MetadataKey);
            foreach (var key in keys) json.WriteString(key, metadata[key]);
            json.WriteEndObject();
        }
        long offset = 0;
        foreach (var t in tensors)
        {
            json.WriteStartObject(t.Name);
            json.WriteString("dtype", "F32");
            json.WriteStartArray("shape");
            foreach (long d in t.Shape) json.WriteNumberValue(d);
            json.WriteEndArray();
            json.WriteStartArray("data_offsets");
            json.WriteNumberValue(offset);
            offset += 4L * t.Data.Length;
            json.WriteNumberValue(offset);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    private static void WriteFloats(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var chunk = new byte[1 << 16];
        for (int i = 0; i < data.Length;)
        {
            int n = Math.Min(chunk.Length / 4, data.Length - i);
            for (int j = 0; j < n; j++) BinaryPrimitives.WriteSingleLittleEndian(chunk.AsSpan(4 * j), data[i + j]);
            stream.Write(chunk, 0, 4 * n);
            i += n;
        }
    }

    // ---------------------------------------------------------------- reading

    /// <summary>
    /// Reads the safetensors file at <paramref name="path"/>. Every tensor must be F32. Nothing larger than the file
    /// justifies is allocated: the header and offsets are checked against the file size first.
    /// </summary>
    /// <exception cref="ModelFormatException">The file is not a valid safetensors file of F32 tensors; the message
    /// names the file and what is wrong.</exception>
    /// <exception cref="GpuNetException">The path names a folder, a pipe (such as /dev/stdin under a pipe), a FIFO, a
    /// device or a socket: refused by name before it is opened, so a FIFO without a writer cannot hang the read.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static SafeTensorsFile Read(string path) => Read(path, "safetensors file");

    /// <summary>Reads the file at <paramref name="path"/>, which <paramref name="what"/> ("model file") names in errors
    /// about opening it.</summary>
    internal static SafeTensorsFile Read(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = FileKinds.OpenRegular(path, what);
        return Read(file, path);
    }

    /// <summary>
    /// Reads a safetensors file held in memory, with the same checks as <see cref="Read(string)"/>;
    /// <paramref name="name"/> stands for the file in messages.
    /// </summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid safetensors file of F32 tensors.</exception>
    public static SafeTensorsFile Read(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(name);
        using var stream = new MemoryStream(bytes, writable: false);
        return Read(stream, name);
    }

    /// <summary>Reads a safetensors file from a seekable stream positioned at its start; <paramref name="name"/> is used in messages.</summary>
    internal static SafeTensorsFile Read(Stream stream, string name)
    {
        ModelFormatException Fail(string what, Exception? inner = null)
        {
            string message = $"safetensors file '{name}': {JsonValues.Escaped(what)}";
            return inner is null ? new(message) : new(message, inner);
        }

        long fileLength = stream.Length - stream.Position;
        if (fileLength < 8)
            throw Fail($"the file is {fileLength} bytes, shorter than the 8-byte header length every safetensors file starts with");
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(stream, lengthBytes, Fail);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw Fail($"the header length is {headerLength} bytes, over the {MaxHeaderBytes}-byte limit (the file is {fileLength} bytes)");
        if (headerLength > (ulong)(fileLength - 8))
            throw Fail($"the header length is {headerLength} bytes but only {fileLength - 8} bytes follow the 8-byte length (the file is {fileLength} bytes)");

        var header = new byte[(int)headerLength];
        ReadExactly(stream, header, Fail);
        long dataLength = fileLength - 8 - (long)headerLength;

        var (metadata, slots) = ParseHeader(header, dataLength, Fail);

        // Lay the tensors out by offset and demand that they tile the data section: no holes, no overlaps.
        slots.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End != b.End ? a.End.CompareTo(b.End) : a.Index.CompareTo(b.Index));
        long covered = 0;
        Slot? previous = null;
        foreach (var s in slots)
        {
            if (s.Begin > covered)
                throw Fail($"bytes [{covered}, {s.Begin}) of the {dataLength}-byte data section belong to no tensor " +
                           $"(the next tensor, '{s.Name}', starts at {s.Begin}); the tensors must cover the data without holes");
            if (s.Begin < covered)
                throw Fail($"tensor '{s.Name}' (data_offsets [{s.Begin}, {s.End}]) overlaps tensor '{previous!.Name}' " +
                           $"(data_offsets [{previous.Begin}, {previous.End}])");
            covered = s.End;
            previous = s;
        }
        if (covered != dataLength)
            throw Fail($"the tensors cover {covered} bytes but the data section is {dataLength} bytes; " +
                       $"bytes [{covered}, {dataLength}) belong to no tensor");

        // Every size has been checked against the file: the arrays together are exactly the data section.
        var tensors = new List<TensorEntry>(slots.Count);
        foreach (var s in slots)
        {
            var data = new float[(s.End - s.Begin) / 4];
            ReadExactly(stream, MemoryMarshal.AsBytes(data.AsSpan()), Fail);
            if (!BitConverter.IsLittleEndian)
            {
                var bits = MemoryMarshal.Cast<float, int>(data.AsSpan());
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }
            tensors.Add(new TensorEntry(s.Name, s.Shape, data));
        }
        return new SafeTensorsFile(name, metadata, tensors);
    }

    private sealed record Slot(string Name, long[] Shape, long Begin, long End, int Index);

    private static (Dictionary<string, string> Metadata, List<Slot> Slots) ParseHeader(
        byte[] header, long dataLength, Func<string, Exception?, ModelFormatException> fail)
    {
        ModelFormatException Fail(string what) => fail(what, null);

        if (!Utf8.IsValid(header)) throw Fail($"the {header.Length}-byte JSON header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw fail($"the {header.Length}-byte JSON header is malformed {JsonValues.ParseError(e)}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Fail($"the JSON header is {JsonValues.Article(root.ValueKind)}, expected an object mapping tensor names to their dtype, shape and data_offsets");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var slots = new List<Slot>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                string key = Text(() => property.Name, "a key of the JSON header");
                if (!seen.Add(key)) throw Fail($"the JSON header has the key '{key}' twice");
                if (key == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw Fail($"'{MetadataKey}' is {JsonValues.Article(property.Value.ValueKind)}, expected an object of strings");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        string mk = Text(() => m.Name, $"a key of '{MetadataKey}'");
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw Fail($"the '{MetadataKey}' value of '{mk}' is {JsonValues.Article(m.Value.ValueKind)}, expected a string");
                        if (!metadata.TryAdd(mk, Text(() => m.Value.GetString()!, $"the '{MetadataKey}' value of '{mk}'")))
                            throw Fail($"'{MetadataKey}' has the key '{mk}' twice");
                    }
                    continue;
                }
                slots.Add(ParseTensor(key, property.Value, slots.Count, dataLength, Fail, Text));
            }
            return (metadata, slots);
        }

        string Text(Func<string> get, string what)
        {
            try { return get(); }
            catch (InvalidOperationException) { throw Fail($"{what} is not valid Unicode (it escapes an unpaired surrogate)"); }
        }
    }

    private static Slot ParseTensor(string name, JsonElement entry, int index, long dataLength,
        Func<string, ModelFormatException> fail, Func<Func<string>, string, string> text)
    {
        ModelFormatException Fail(string what) => fail($"tensor '{name}': {what}");

        var (dtype, shapeJson, offsetsJson) = TensorFields(entry, Fail);
        if (dtype.ValueKind != JsonValueKind.String) throw Fail($"\"dtype\" is {JsonValues.Article(dtype.ValueKind)}, expected a string such as \"F32\"");
        string dtypeName = text(() => dtype.GetString()!, $"the dtype of tensor '{name}'");
        if (dtypeName != "F32") throw Fail($"dtype is \"{JsonValues.Shown(dtypeName)}\"; only F32 is supported");

        var shape = ParseShape(shapeJson, Fail);
        var (begin, end) = ParseOffsets(offsetsJson, dataLength, Fail);
        CheckShapeSpan(shape, begin, end, Fail);
        return new Slot(name, shape, begin, end, index);
    }

    /// <summary>The entry's "dtype", "shape" and "data_offsets", each required once; other keys are ignored.</summary>
    private static (JsonElement Dtype, JsonElement Shape, JsonElement Offsets) TensorFields(
        JsonElement entry, Func<string, ModelFormatException> fail)
    {
        if (entry.ValueKind != JsonValueKind.Object)
            throw fail($"its entry is {JsonValues.Article(entry.ValueKind)}, expected an object with dtype, shape and data_offsets");
        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (var p in entry.EnumerateObject())
        {
            switch (p.NameEquals("dtype") ? 0 : p.NameEquals("shape") ? 1 : p.NameEquals("data_offsets") ? 2 : -1)
            {
                case 0: if (dtypeEl is not null) throw fail("\"dtype\" is given twice"); dtypeEl = p.Value; break;
                case 1: if (shapeEl is not null) throw fail("\"shape\" is given twice"); shapeEl = p.Value; break;
                case 2: if (offsetsEl is not null) throw fail("\"data_offsets\" is given twice"); offsetsEl = p.Value; break;
                // Other keys are ignored, as the reference implementation does.
            }
        }
        if (dtypeEl is not { } dtype) throw fail("its entry has no \"dtype\"");
        if (shapeEl is not { } shape) throw fail("its entry has no \"shape\"");
        if (offsetsEl is not { } offsets) throw fail("its entry has no \"data_offsets\"");
        return (dtype, shape, offsets);
    }

    private static long[] ParseShape(JsonElement shapeJson, Func<string, ModelFormatException> fail)
    {
        if (shapeJson.ValueKind != JsonValueKind.Array) throw fail($"\"shape\" is {JsonValues.Article(shapeJson.ValueKind)}, expected an array of integers");
        var shape = new long[shapeJson.GetArrayLength()];
        int k = 0;
        foreach (var d in shapeJson.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v))
                throw fail($"dimension {k} of \"shape\" is {JsonValues.Describe(d)}, expected a whole number");
            if (v < 0) throw fail($"dimension {k} of \"shape\" is {v}, which is negative");
            shape[k++] = v;
        }
        return shape;
    }

    private static (long Begin, long End) ParseOffsets(JsonElement offsetsJson, long dataLength, Func<string, ModelFormatException> fail)
    {
        if (offsetsJson.ValueKind != JsonValueKind.Array || offsetsJson.GetArrayLength() != 2)
            throw fail($"\"data_offsets\" is {JsonValues.Describe(offsetsJson)}, expected an array [begin, end] of two whole numbers");
        long begin = Offset(offsetsJson[0], "begin"), end = Offset(offsetsJson[1], "end");
        if (begin > end) throw fail($"data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw fail($"data_offsets [{begin}, {end}] run past the end of the {dataLength}-byte data section");
        return (begin, end);

        long Offset(JsonElement e, string which)
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v) || v < 0)
                throw fail($"the {which} of \"data_offsets\" is {JsonValues.Describe(e)}, expected a whole number from 0 to 2^63-1");
            return v;
        }
    }

    /// <summary>Checks that <paramref name="shape"/> holds exactly the F32 values that bytes [begin, end) span, and no
    /// more than one array can hold.</summary>
    private static void CheckShapeSpan(long[] shape, long begin, long end, Func<string, ModelFormatException> fail)
    {
        // Multiply in order with overflow checks, as the reference implementation does.
        long count = 1;
        foreach (long d in shape)
        {
            if (d != 0 && count > long.MaxValue / d)
                throw fail($"shape {TensorEntry.FormatShape(shape)} has more than 2^63 elements");
            count *= d;
        }
        Int128 bytes = (Int128)count * 4;
        if (bytes != end - begin)
            throw fail($"shape {TensorEntry.FormatShape(shape)} holds {count} F32 values = {bytes} bytes, " +
                       $"but data_offsets [{begin}, {end}] span {end - begin} bytes");
        if (count > Array.MaxLength)
            throw fail($"shape {TensorEntry.FormatShape(shape)} has {count} elements, more than one array can hold ({Array.MaxLength})");
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, Func<string, Exception?, ModelFormatException> fail)
    {
        long at = stream.Position;
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw fail($"the file ended while reading {buffer.Length} bytes at offset {at}; it may have changed while being read", e);
        }
    }
}
