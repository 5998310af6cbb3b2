"""The patient's account: what is stored (/privacy, /mydata), erasure (/delete), language
and reminder choices."""
