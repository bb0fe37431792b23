namespace GpuNet.Devices;

/// <summary>Counts over a run of SASS instructions (one loop iteration, typically). NOPs, which ptxas uses as padding
/// and which issue no work, are not counted.</summary>
internal sealed record InstructionMix(
    int Total, int Ffma, int SharedLoads, int SharedLoads128, int SharedStores, int GlobalLoads, int GlobalLoads128,
    int GlobalStores, int GlobalLoadBytes, int GlobalStoreBytes, int Barriers, int Calls, int LocalAccesses)
{
    /// <summary>FFMA / all instructions: the share of issue slots doing the multiply-adds.</summary>
    public double FfmaShare => Total == 0 ? 0 : (double)Ffma / Total;

    /// <summary>Instructions other than FFMA per FFMA (infinite without FFMA).</summary>
    public double OthersPerFfma => Ffma == 0 ? double.PositiveInfinity : (double)(Total - Ffma) / Ffma;

    /// <summary>Counts <paramref name="instructions"/>.</summary>
    public static InstructionMix Of(IEnumerable<SassInstruction> instructions)
    {
        int total = 0, ffma = 0, lds = 0, lds128 = 0, sts = 0, ldg = 0, ldg128 = 0, stg = 0, ldgBytes = 0, stgBytes = 0, bar = 0, calls = 0, local = 0;
        foreach (var i in instructions)
        {
            string m = i.Mnemonic;
            if (m == "NOP") continue;
            total++;
            switch (m)
            {
                case "FFMA": ffma++; break;
                case "LDS": lds++; if (i.AccessBits == 128) lds128++; break;
                case "STS": sts++; break;
                case "BAR": bar++; break;
                case "CALL": calls++; break;
                case "LDL" or "STL": local++; break;
            }
            if (i.IsGlobalLoad) { ldg++; ldgBytes += i.AccessBits / 8; if (i.AccessBits == 128) ldg128++; }
            if (i.IsGlobalStore) { stg++; stgBytes += i.AccessBits / 8; }
        }
        return new InstructionMix(total, ffma, lds, lds128, sts, ldg, ldg128, stg, ldgBytes, stgBytes, bar, calls, local);
    }
}
