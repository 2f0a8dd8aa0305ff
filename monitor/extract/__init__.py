"""Extract stage: raw snapshot bytes (HTML, text, PDF) to normalised policy text. Pure."""
