"""Bundled data files: free-mail providers, brands, dangerous file types."""
