using System.Buffers.Binary;
using System.Text;

namespace GpuNet.Tests.IO;

/// <summary>Assembles safetensors files byte by byte, independently of the writer under test.</summary>
public static class SafeTensorsBytes
{
    /// <summary>8-byte little-endian length, the header exactly as given (no padding), then the data.</summary>
    public static byte[] Build(string headerJson, byte[] data, ulong? headerLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return Build(header, data, headerLength);
    }

    public static byte[] Build(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    /// <summary>Little-endian float32 bytes of the values.</summary>
    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    /// <summary>Bit patterns, so that NaN payloads and -0 compare exactly.</summary>
    public static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
