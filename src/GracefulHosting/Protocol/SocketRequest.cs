namespace GracefulHosting.Protocol;

/// <summary>
/// A child's request for the listening socket of one endpoint its Kestrel binds, sent to the master as
/// one packet on the control channel: <c>LISTEN\t&lt;endpoint&gt;\t&lt;name&gt;\t&lt;setting&gt;</c>.
/// </summary>
/// <param name="Endpoint">The endpoint Kestrel asks for (text of <see cref="Endpoints.EndpointText"/>).</param>
/// <param name="Name">The <c>Kestrel:Endpoints</c> entry that asks for it, if any: a systemd socket named after it serves it.</param>
/// <param name="Setting">Which setting asked for it, for messages (<c>Kestrel:Endpoints:Http:Url = '...'</c>).</param>
internal sealed record SocketRequest(string Endpoint, string? Name, string Setting)
{
    public const string Verb = "LISTEN";

    public string Format() => string.Join('\t', Verb, Field(Endpoint), Field(Name ?? ""), Field(Setting));

    /// <summary>Parses a packet that starts with <see cref="Verb"/>; null when it is malformed.</summary>
    public static SocketRequest? Parse(string packet)
    {
        string[] parts = packet.TrimEnd('\n').Split('\t');
        if (parts.Length != 4 || parts[0] != Verb || !Endpoints.EndpointText.IsValid(parts[1]))
        {
            return null;
        }

        return new SocketRequest(parts[1], parts[2].Length == 0 ? null : parts[2], parts[3]);
    }

    /// <summary>A field of one line: tabs and line breaks would split it, so they become spaces.</summary>
    internal static string Field(string text) =>
        text.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}

/// <summary>Why the master could not hand over a socket; the child throws what a failed bind would.</summary>
internal enum SocketRefusal
{
    /// <summary>The address is in use by another process: Kestrel never skips such an endpoint.</summary>
    InUse,

    /// <summary>Any other cause (permission, an address not on this machine, no systemd socket for it).</summary>
    Other,
}

/// <summary>
/// The master's answer to a <see cref="SocketRequest"/>: <c>OK\t&lt;endpoint&gt;</c> with the descriptor
/// attached (SCM_RIGHTS), or <c>ERR\t&lt;inuse|other&gt;\t&lt;message&gt;</c>.
/// </summary>
internal sealed record SocketReply(string? Endpoint, SocketRefusal Refusal, string? Error)
{
    public bool Granted => Error is null;

    public static SocketReply Grant(string endpoint) => new(endpoint, SocketRefusal.Other, null);

    public static SocketReply Refuse(SocketRefusal refusal, string error) => new(null, refusal, error);

    public string Format() => Granted
        ? "OK\t" + SocketRequest.Field(Endpoint!)
        : $"ERR\t{(Refusal == SocketRefusal.InUse ? "inuse" : "other")}\t{SocketRequest.Field(Error!)}";

    /// <summary>Parses a reply; null when it is malformed.</summary>
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
