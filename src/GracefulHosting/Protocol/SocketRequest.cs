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
