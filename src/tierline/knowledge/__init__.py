"""The knowledge base: articles in Markdown, their versions, feedback and links from tickets."""
