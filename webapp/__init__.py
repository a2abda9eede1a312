"""The assistant's own web app (Sanic, port 8000): the website widget and the staff console."""
