namespace GpuNet.Devices;

/// <summary>A loop of the machine code: the instructions from <see cref="Head"/> to the backward branch at
/// <see cref="Tail"/> (inclusive), plus <see cref="Called"/>, the instructions of the subroutines that its CALLs
/// reach (counted once per call: they run on every iteration that makes the call).</summary>
internal sealed record SassLoop(int Head, int Tail, IReadOnlyList<SassInstruction> Body, IReadOnlyList<SassInstruction> Called)
{
    /// <summary>Body and called subroutines together: what one iteration issues.</summary>
    public IEnumerable<SassInstruction> Issued => Body.Concat(Called);

    /// <summary>CALLs made on every iteration (not jumped over by a predicated branch).</summary>
    public int EveryIterationCalls => Body.Count(i => i.Mnemonic == "CALL" && !SassListing.IsConditional(i, Body));

    /// <summary>Integer divisions an iteration issues, inline or in called routines, counted by the reciprocal that
    /// starts ptxas's division sequence (I2F.RP for 32 bits, I2F.U64.RP for 64 bits).</summary>
    public (int Bits32, int Bits64) IntegerDivisions =>
        (Issued.Count(i => i.Opcode is "I2F.RP" or "I2F.U32.RP"), Issued.Count(i => i.Opcode.StartsWith("I2F.U64.RP", StringComparison.Ordinal) || i.Opcode == "I2F.S64.RP"));
}

/// <summary>The SASS of one kernel (cuobjdump's listing of a module with one entry function) with its loops, found
/// from the backward branches: a BRA to an address at or before itself closes a loop that starts at its target.</summary>
internal sealed class SassListing
{
    private readonly Dictionary<int, int> indexOf = [];

    public SassListing(IReadOnlyList<SassInstruction> instructions)
    {
        Instructions = instructions;
        for (int i = 0; i < instructions.Count; i++) indexOf[instructions[i].Address] = i;
        Loops = FindLoops();
    }

    /// <summary>Every instruction, in address order.</summary>
    public IReadOnlyList<SassInstruction> Instructions { get; }

    /// <summary>Every loop, by head address. Branches back to one head (a loop with a <c>continue</c>) form one loop
    /// up to the last of them; the branch to itself that ends a kernel is no loop.</summary>
    public IReadOnlyList<SassLoop> Loops { get; }

    /// <summary>The loops that hold no other loop.</summary>
    public IEnumerable<SassLoop> InnermostLoops =>
        Loops.Where(l => !Loops.Any(o => o != l && o.Head >= l.Head && o.Tail <= l.Tail));

    /// <summary>Reads cuobjdump's <c>-sass</c> output; throws <see cref="FormatException"/> when it holds no
    /// instruction or more than one function.</summary>
    public static SassListing Parse(string cuobjdumpOutput)
    {
        var lines = cuobjdumpOutput.Split('\n');
        int functions = lines.Count(l => l.TrimStart().StartsWith("Function :", StringComparison.Ordinal));
        if (functions > 1) throw new FormatException($"the listing holds {functions} functions; compile one kernel a module");
        var list = new List<SassInstruction>();
        foreach (var line in lines)
            if (SassInstruction.TryParse(line) is { } ins) list.Add(ins);
        if (list.Count == 0) throw new FormatException("no SASS instruction in the cuobjdump output");
        return new SassListing(list);
    }

    private List<SassLoop> FindLoops()
    {
        var tails = new SortedDictionary<int, int>();
        foreach (var ins in Instructions)
            if (ins.Mnemonic == "BRA" && ins.Target is int t && t < ins.Address && indexOf.ContainsKey(t))
                tails[t] = Math.Max(tails.GetValueOrDefault(t, t), ins.Address);
        var loops = new List<SassLoop>();
        foreach (var (head, tail) in tails)
        {
            var body = Instructions.Skip(indexOf[head]).Take(indexOf[tail] - indexOf[head] + 1).ToList();
            loops.Add(new SassLoop(head, tail, body, CalledFrom(body)));
        }
        return loops;
    }

    // The instructions of each subroutine that a CALL of the body reaches on every iteration: from its entry to its first
    // RET, straight-line (the integer division routines ptxas calls are branch-free). A CALL that a predicated forward
    // branch of the body can jump over is a slow path (ptxas's float division and square root call one only when FCHK
    // finds an operand it cannot handle inline) and is not counted.
    private List<SassInstruction> CalledFrom(IReadOnlyList<SassInstruction> body)
    {
        var called = new List<SassInstruction>();
        foreach (var ins in body)
        {
            if (ins.Mnemonic != "CALL" || ins.Target is not int t || !indexOf.TryGetValue(t, out int i)) continue;
            if (IsConditional(ins, body)) continue;
            for (; i < Instructions.Count; i++)
            {
                called.Add(Instructions[i]);
                if (Instructions[i].Mnemonic is "RET" or "EXIT") break;
            }
        }
        return called;
    }

    /// <summary>Whether a predicated forward branch of <paramref name="body"/> before <paramref name="ins"/> jumps past it.</summary>
    public static bool IsConditional(SassInstruction ins, IReadOnlyList<SassInstruction> body) =>
        body.Any(b => b.Mnemonic == "BRA" && b.Predicate != null && b.Address < ins.Address && b.Target is int t && t > ins.Address);
}
