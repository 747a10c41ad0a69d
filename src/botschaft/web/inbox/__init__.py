"""The team inbox under /app/inbox: pages, forms, files and the live stream."""
