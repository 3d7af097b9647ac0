namespace GracefulHosting.Protocol;

// OK\t<endpoint> with the descriptor attached (SCM_RIGHTS), or ERR\t<inuse|other>\t<message>.
internal sealed record SocketReply(string? Endpoint, SocketRefusal Refusal, string? Error)
{
    public bool Granted => Error is null;

    public static SocketReply Grant(string endpoint) => new(endpoint, SocketRefusal.Other, null);

    public static SocketReply Refuse(SocketRefusal refusal, string error) => new(null, refusal, error);

    public string Format() => Granted
        ? "OK\t" + SocketRequest.Field(Endpoint!)
        : $"ERR\t{(Refusal == SocketRefusal.InUse ? "inuse" : "other")}\t{SocketRequest.Field(Error!)}";

    public static SocketReply? Parse(string packet)
    {
        string[] parts = packet.TrimEnd('\n').Split('\t', 3);
        return parts switch
        {
            ["OK", var endpoint] => Grant(endpoint),
            ["ERR", "inuse", var error] => Refuse(SocketRefusal.InUse, error),
            ["ERR", "other", var error] => Refuse(SocketRefusal.Other, error),
            _ => null,
        };
    }
}
