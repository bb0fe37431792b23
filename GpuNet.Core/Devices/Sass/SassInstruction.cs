using System.Globalization;
using System.Text.RegularExpressions;

namespace GpuNet.Devices;

/// <summary>One SASS instruction as cuobjdump prints it: <c>/*0480*/ @!P0 BRA 0xc0 ;</c> is address 0x480, predicate
/// "!P0", opcode "BRA" (with its modifiers, e.g. "LDG.E.128"), operands "0xc0".</summary>
internal sealed partial record SassInstruction(int Address, string? Predicate, string Opcode, string Operands)
{
    /// <summary>The opcode without modifiers: "LDG" for "LDG.E.128".</summary>
    public string Mnemonic => Opcode.Split('.')[0];

    /// <summary>The operands split at top-level commas.</summary>
    public IReadOnlyList<string> OperandList => Operands.Length == 0 ? [] : Operands.Split(',', StringSplitOptions.TrimEntries);

    /// <summary>Bits moved by a load or store (8, 16, 32, 64 or 128, from the opcode's size modifier); 0 for other
    /// instructions.</summary>
    public int AccessBits
    {
        get
        {
            if (!IsMemory) return 0;
            foreach (var part in Opcode.Split('.').Skip(1))
                switch (part)
                {
                    case "128": return 128;
                    case "64": return 64;
                    case "U8" or "S8": return 8;
                    case "U16" or "S16": return 16;
                }
            return 32;
        }
    }

    private bool IsMemory => Mnemonic is "LDG" or "STG" or "LDS" or "STS" or "LDL" or "STL" or "LD" or "ST" or "LDC";

    /// <summary>True for a global-memory load (LDG) or a generic load (LD), which reads global memory in these kernels.</summary>
    public bool IsGlobalLoad => Mnemonic is "LDG" or "LD";

    /// <summary>True for a global-memory store (STG, or a generic ST).</summary>
    public bool IsGlobalStore => Mnemonic is "STG" or "ST";

    /// <summary>The target address of a branch (BRA) or call (CALL), or null.</summary>
    public int? Target
    {
        get
        {
            if (Mnemonic is not ("BRA" or "CALL")) return null;
            var m = HexPattern().Match(Operands);
            return m.Success ? int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) : null;
        }
    }

    /// <summary>Registers written (the first operand of an instruction that writes a general register; a wide access
    /// writes consecutive registers).</summary>
    public IEnumerable<int> RegistersWritten()
    {
        if (Mnemonic.StartsWith("ST", StringComparison.Ordinal) || Mnemonic is "RED" or "BRA" or "CALL" or "RET" or "EXIT" or "BAR")
            yield break;
        var ops = OperandList;
        if (ops.Count == 0) yield break;
        var m = RegisterPattern().Match(ops[0]);
        if (!m.Success || m.Index != 0) yield break;
        int first = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        int count = Math.Max(1, AccessBits / 32);
        for (int i = 0; i < count; i++) yield return first + i;
    }

    /// <summary>Registers read: every general register named in an operand that is not the written one
    /// (a ".64" address register reads the pair).</summary>
    public IEnumerable<int> RegistersRead()
    {
        var ops = OperandList;
        int skip = RegistersWritten().Any() ? 1 : 0;
        for (int i = skip; i < ops.Count; i++)
            foreach (Match m in RegisterPattern().Matches(ops[i]))
            {
                int r = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                yield return r;
                if (m.Groups[2].Success) yield return r + 1;
            }
    }

    [GeneratedRegex(@"0x([0-9a-fA-F]+)")]
    private static partial Regex HexPattern();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])R(\d+)(\.64)?")]
    private static partial Regex RegisterPattern();

    [GeneratedRegex(@"^\s*/\*([0-9a-f]{4,})\*/\s+(?:(@!?U?P\w+)\s+)?([A-Z][A-Z0-9_.]*)\s*([^;]*);")]
    private static partial Regex LinePattern();

    /// <summary>The instruction on one line of cuobjdump's listing, or null for any other line.</summary>
    public static SassInstruction? TryParse(string line)
    {
        var m = LinePattern().Match(line);
        if (!m.Success) return null;
        return new SassInstruction(int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            m.Groups[2].Success ? m.Groups[2].Value[1..] : null, m.Groups[3].Value, m.Groups[4].Value.Trim());
    }
}
