print("statem")
