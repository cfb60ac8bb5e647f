"""Images and audio in requests and answers: sniffing, durations, conversion, subtitles, uploads."""
